// weights.h — a ResNet's parameters as read from an HDF5 file.
//
// Layout: one dataset per torchvision state_dict key ("conv1.weight",
// "layer1.0.bn2.running_var", "fc.bias", ...), PyTorch shapes (conv OIHW),
// float16/32/64 accepted and converted to float32; root attributes `arch`,
// `num_classes`, and optionally `input_size`, `mean`, `std`, `class_names`,
// and `lmask_graph`, the model's graph description (graph_json.h).
// `*.num_batches_tracked` entries are ignored.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "lmask/tensor.h"

namespace lmask {

// Limits on what a weight file may declare, checked before anything is
// allocated: far above any torchvision ResNet (the largest tensor of
// wide_resnet101_2 has 9.4M values), far below what would exhaust memory.
constexpr std::size_t kMaxWeightValues = std::size_t(1) << 28;  // per dataset: 1 GiB as float32
// In all: wide_resnet101_2, the largest architecture lmask knows, has 126.9M
// parameters; this is about twice that.
constexpr std::size_t kMaxTotalWeightValues = std::size_t(1) << 28;
constexpr int kMaxClasses = 1 << 20;
constexpr int kMaxInputSize = 4096;  // input_size; resize_size at most twice this

struct Weights {
  std::string path;                     // where they came from, for messages
  std::string arch;                     // e.g. "resnet50"
  int num_classes = 0;
  std::map<std::string, Tensor> params; // rank-1 stored as [1,C,1,1], fc.weight as [O,I,1,1]
  std::map<std::string, std::vector<std::size_t>> dims;  // the file's own shape of each key
  // Preprocessing recorded by the converter or training tool (ImageNet defaults).
  int input_size = 224;
  int resize_size = 256;
  std::vector<float> mean{0.485f, 0.456f, 0.406f};
  std::vector<float> std{0.229f, 0.224f, 0.225f};
  std::vector<std::string> class_names;  // may be empty
  // The root attribute lmask_graph as it is: the graph's JSON description
  // (graph_json.h, read by graph_from_description); empty when the file
  // has none, and its graph comes from `arch`.
  std::string graph_json;

  // Throws InputError naming the key and the expected and found shapes.
  const Tensor& get(const std::string& key, const std::vector<std::size_t>& expected) const;
};

// Reads every dataset; throws InputError on a missing/corrupt file, a file
// without datasets and without a graph description, a non-numeric dataset, a dataset above kMaxWeightValues or all of them above
// kMaxTotalWeightValues, a dataset whose values the file does not hold
// (never written, truncated, or kept in other files), NaN/Inf values, or
// attributes out of range (num_classes, input_size, resize_size not whole
// numbers within the limits above; mean/std not 3 finite numbers, std <= 0).
Weights load_weights(const std::string& path);

}  // namespace lmask
