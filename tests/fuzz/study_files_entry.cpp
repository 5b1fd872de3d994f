// study_files_entry.cpp — fuzzing the readers of a study's own files: the
// shard file `lmask merge` adds up and the checkpoint state `--resume`
// continues from (lmask/study.h, check_shard_file, check_checkpoint_state).
//
// First byte, bit 0 clear: the rest is a shard file; bit 1 set: with its
// checksum line recomputed after the fuzzer's changes (or added when there
// is none), so that mutations reach the settings and counts behind the
// checksum. Bit 0 set: the rest is a checkpoint's state, for the study of
// bits 2-3, with the settings the seed corpus was made with (the README).
// The model is the shipped one (its classes and input size lay out the
// rows); the dataset is only a size, the images are never read.
#include <string>

#include "fuzz_entries.h"
#include "lmask/error.h"
#include "lmask/model.h"
#include "lmask/study.h"
#include "study_file_seal.h"

namespace lmask::fuzz {

namespace {

// Fashion-MNIST's test split, as far as the checks look: its size.
class SizeOnly final : public Dataset {
 public:
  std::size_t size() const override { return 10000; }
  Sample get(std::size_t i) const override { throw InputError("image#" + std::to_string(i), "not read here"); }
  const std::vector<std::string>& class_names() const override { return names_; }
  std::string description() const override { return "fuzz"; }

 private:
  std::vector<std::string> names_ = std::vector<std::string>(10, "class");
};

const Model& model() {
  static const Model m = Model::load(std::string(LMASK_SOURCE_DIR) + "/weights/resnet50_fmnist.h5");
  return m;
}

// The text with its last line replaced by (or, when it is no checksum
// line, followed by) "crc32 <hex>" of everything before it.
std::string resealed(std::string text) {
  const std::size_t last = text.size() > 1 ? text.rfind('\n', text.size() - 2) : std::string::npos;
  const std::size_t start = last == std::string::npos ? 0 : last + 1;
  if (text.compare(start, 6, "crc32 ") == 0) text.resize(start);
  else if (!text.empty() && text.back() != '\n') text += '\n';
  return lmask::testing::with_checksum_line(text);
}

// The settings of the seed checkpoints (tests/fuzz/README.md).
StudySettings seed_settings() {
  StudySettings s;
  s.methods = {"grey", "layer"};
  s.fractions = {0.0, 0.5, 1.0};
  s.limit = 5;
  s.batch = 2;
  s.seed = 11;
  s.samples = 8;
  return s;
}

}  // namespace

void study_files_entry(const std::uint8_t* data, std::size_t size) {
  Bytes in(data, size);
  const std::uint8_t mode = in.u8();
  const std::string text(reinterpret_cast<const char*>(in.rest()), in.left());
  const SizeOnly dataset;
  try {
    if (mode & 1) {
      const std::string study = study_names()[(mode >> 2) & 3];
      (void)check_checkpoint_state(study, seed_settings(), model(), dataset, text, "fuzz.partial");
    } else {
      check_shard_file({"fuzz.shard", mode & 2 ? resealed(text) : text}, model(), dataset);
    }
  } catch (const InputError&) {
  }
}

}  // namespace lmask::fuzz
