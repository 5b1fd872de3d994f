// fuzz_entries.h — the fuzz targets' entry points: one input each, through
// the same functions the CLI uses on a file from the user.
//
// An entry returns normally for every input the code handles: decoded,
// refused with InputError, or (where a test harness passes parameters no
// caller passes) refused with std::invalid_argument/out_of_range. Anything
// else — another exception, a crash, a sanitizer report, a huge allocation —
// is a finding. The same entries run inside the libFuzzer binaries
// (fuzz_main.cpp) and in the doctest suite over the saved corpus and
// regression inputs (tests/test_fuzz_regressions.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace lmask::fuzz {

// The whole input as a PNG/JPEG file: decode_image, then preprocess_01 and
// mask_from_image with sizes taken from the input's length.
void image_entry(const std::uint8_t* data, std::size_t size);
// First byte: how to read the rest. 0-1: a program that writes an HDF5
// weight file (datasets and attributes of fuzzed names, ranks, shapes,
// types and values); 2: the rest as the file's raw bytes (only with
// LMASK_FUZZ_HDF5_RAW=1, see weights_entry.cpp); 3: a complete ResNet-18
// file with the program's changes applied on top. Then load_weights, and
// Model::from_weights on what loads.
void weights_entry(const std::uint8_t* data, std::size_t size);
// First byte even: the rest as one idx file (plain or gzip) for read_idx;
// odd: split in two (image and label files) for the Fashion-MNIST dataset.
void idx_entry(const std::uint8_t* data, std::size_t size);
// Parameters for every mask builder (sizes, patch, fraction, ids, segment
// maps, shapes), then the rest as a mask picture for mask_from_png.
void masks_entry(const std::uint8_t* data, std::size_t size);
// First byte odd: the rest as a .lmw buffer with its CRC-32 recomputed (so
// mutations get past the checksum); even: as it is. Then read_lmw_weights
// and Model::from_weights on what reads.
void lmw_entry(const std::uint8_t* data, std::size_t size);
// First byte even: the rest as a study shard file (bit 1: its checksum
// recomputed) for check_shard_file; odd: as a checkpoint's state for
// check_checkpoint_state, of the study in bits 2-3.
void study_files_entry(const std::uint8_t* data, std::size_t size);
// The whole input as a graph description's text for graph_from_json, read
// against the tensors of tests/graph_json_cases.h; what reads is described
// and read again.
void graph_json_entry(const std::uint8_t* data, std::size_t size);

struct Target {
  const char* name;  // the corpus folder name: tests/fuzz/corpus/<name>
  void (*entry)(const std::uint8_t*, std::size_t);
};
const std::vector<Target>& targets();

// A per-process scratch file for entries that need a path: the same name
// on every call, so a long fuzzing run does not fill the disk.
std::string scratch_path(const std::string& name);
void write_scratch(const std::string& path, const std::uint8_t* data, std::size_t size);

// Reads fuzzer bytes as parameters; past the end every read gives 0.
class Bytes {
 public:
  Bytes(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  std::uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
  std::uint32_t u32() {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = v << 8 | u8();
    return v;
  }
  std::int32_t i32() { return static_cast<std::int32_t>(u32()); }
  double f64();  // any bit pattern: NaN, Inf and subnormals included
  std::size_t left() const { return size_ - pos_; }
  const std::uint8_t* rest() const { return data_ + pos_; }

 private:
  const std::uint8_t* data_;
  std::size_t size_, pos_ = 0;
};

}  // namespace lmask::fuzz
