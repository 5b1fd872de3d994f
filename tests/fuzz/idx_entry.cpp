// idx_entry.cpp — fuzzing the idx reader and the Fashion-MNIST dataset
// built on it (fuzz_entries.h). zlib reads from a path, so the bytes go to
// scratch files first.
#include <algorithm>
#include <filesystem>

#include "fuzz_entries.h"
#include "lmask/dataset.h"
#include "lmask/error.h"

namespace lmask::fuzz {

void idx_entry(const std::uint8_t* data, std::size_t size) {
  Bytes in(data, size);
  const std::uint8_t mode = in.u8();
  try {
    if (mode % 2 == 0) {
      const std::string path = scratch_path("fuzz.idx");
      write_scratch(path, in.rest(), in.left());
      const IdxArray a = read_idx(path);
      std::size_t count = 1;
      for (auto d : a.dims) count *= d;
      if (count != a.values.size()) throw std::logic_error("idx entry: values disagree with the dims");
      return;
    }
    // Two files: the first u16 bytes are the images file, the rest the labels.
    // (Each read on its own line: the order of reads in one expression is unspecified.)
    const std::size_t high = in.u8(), low = in.u8();
    const std::size_t split = std::min(in.left(), high << 8 | low);
    const std::string dir = std::filesystem::path(scratch_path("x")).parent_path().string();
    write_scratch(dir + "/t10k-images-idx3-ubyte.gz", in.rest(), split);
    write_scratch(dir + "/t10k-labels-idx1-ubyte.gz", in.rest() + split, in.left() - split);
    Weights meta;
    meta.input_size = 1 + mode % 31;
    meta.resize_size = meta.input_size + mode / 31;
    const auto set = open_dataset("fmnist:test:" + dir, meta);
    for (std::size_t i = 0; i < std::min<std::size_t>(set->size(), 3); ++i) set->get(i);
  } catch (const InputError&) {
  }
}

}  // namespace lmask::fuzz
