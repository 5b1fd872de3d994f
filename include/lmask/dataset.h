// dataset.h — labelled images for evaluations and studies, preprocessed for a
// given model, each with an optional object mask (the pixels of the object).
//
// Two sources, named by a dataset spec on the command line:
//   fmnist:train | fmnist:test [:DIR]   Fashion-MNIST idx files (gzip), from DIR
//                                       or Debian's /usr/share/datasets/fashion-mnist
//   folder:ROOT [,masks=MASKROOT]       ImageNet-style root/<class>/<image>
//                                       (.png/.jpg/.jpeg), classes sorted like
//                                       torchvision's ImageFolder; object masks, if
//                                       given, at MASKROOT/<class>/<image stem>.png
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lmask/mask.h"
#include "lmask/tensor.h"
#include "lmask/weights.h"

namespace lmask {

struct Sample {
  Tensor image01;      // [1,3,S,S] in [0,1], S = the model's input size
  int label = -1;      // class index
  Mask object;         // [1,1,S,S], 1 = object; empty when the source has none
  std::string name;    // for messages and reports, e.g. "fmnist:test#17"
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual std::size_t size() const = 0;
  virtual Sample get(std::size_t index) const = 0;  // index < size()
  virtual const std::vector<std::string>& class_names() const = 0;
  virtual std::string description() const = 0;
};

// Samples [first, first+count) of a dataset as one batch, for the batched
// forwards of evaluations and studies.
struct Batch {
  Tensor images01;              // [count,3,S,S] in [0,1]
  std::vector<int> labels;
  Mask objects;                 // [count,1,S,S]; empty when the source has none
  std::vector<std::string> names;
  std::vector<std::size_t> indices;  // each sample's index in the dataset
  std::size_t size() const { return labels.size(); }
};
Batch load_batch(const Dataset& data, std::size_t first, std::size_t count);

// What a run does when a sample cannot be read mid-run (a corrupt or
// unreadable image or mask of a folder dataset, i.e. an InputError from
// Dataset::get): stop with that error, or leave the sample out and go on.
enum class BadFilePolicy { stop, skip };
BadFilePolicy parse_bad_file_policy(const std::string& name);  // "stop" or "skip"; else InputError

// load_batch under a policy. With skip, the samples that throw InputError
// are left out (the batch may even be empty) and their messages appended
// to `skipped`; indices then tell which samples remain.
Batch load_batch(const Dataset& data, std::size_t first, std::size_t count, BadFilePolicy policy,
                 std::vector<std::string>& skipped);

// Opens a dataset spec (above) with the preprocessing recorded in `meta`
// (resize_size, input_size). Throws InputError naming the file and problem.
std::unique_ptr<Dataset> open_dataset(const std::string& spec, const Weights& meta);

// An idx file (the MNIST format), gzip-compressed or plain: unsigned bytes only.
struct IdxArray {
  std::vector<std::uint32_t> dims;
  std::vector<std::uint8_t> values;
};
// Throws InputError(path, ...) for a missing/corrupt/truncated file, a bad
// magic, a non-uint8 type, or a size that disagrees with the header.
IdxArray read_idx(const std::string& path);

}  // namespace lmask
