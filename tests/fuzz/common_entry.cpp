// common_entry.cpp — the fuzz entries' shared pieces (fuzz_entries.h).
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "fuzz_entries.h"

namespace lmask::fuzz {

const std::vector<Target>& targets() {
  static const std::vector<Target> all = {
      {"image", image_entry}, {"weights", weights_entry}, {"idx", idx_entry}, {"masks", masks_entry},
      {"lmw", lmw_entry}, {"study_files", study_files_entry}, {"graph_json", graph_json_entry}};
  return all;
}

std::string scratch_path(const std::string& name) {
  // One folder per process, removed at exit (the test suite runs every case
  // in a process of its own, and must not leave them behind in /tmp).
  struct Folder {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("lmask_fuzz_" + std::to_string(::getpid()));
    Folder() { std::filesystem::create_directories(path); }
    ~Folder() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static const Folder folder;
  return (folder.path / name).string();
}

void write_scratch(const std::string& path, const std::uint8_t* data, std::size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw std::runtime_error("cannot write scratch file " + path);
  const bool ok = size == 0 || std::fwrite(data, 1, size, f) == size;
  std::fclose(f);
  if (!ok) throw std::runtime_error("cannot write scratch file " + path);
}

double Bytes::f64() {
  std::uint64_t bits = 0;
  for (int i = 0; i < 8; ++i) bits = bits << 8 | u8();
  double v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

}  // namespace lmask::fuzz
