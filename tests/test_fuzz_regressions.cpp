// test_fuzz_regressions.cpp — every saved fuzzing input, run through the
// fuzz targets' own entry points (tests/fuzz/fuzz_entries.h) in the normal
// suite: the seed corpus, and the inputs that once crashed a target, kept in
// tests/fuzz/regressions/<target>/ after the bug was fixed. An input passes
// when its entry returns: handled, or refused with the expected exceptions.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fuzz/fuzz_entries.h"

namespace fs = std::filesystem;

namespace {

std::vector<std::uint8_t> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), {});
}

// The files of tests/fuzz/<kind>/<target>, sorted (none when the folder is absent).
std::vector<fs::path> inputs(const std::string& kind, const std::string& target) {
  const fs::path dir = fs::path(LMASK_SOURCE_DIR) / "tests" / "fuzz" / kind / target;
  std::vector<fs::path> files;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file()) files.push_back(it->path());
  std::sort(files.begin(), files.end());
  return files;
}

void run_all(const std::string& kind, std::size_t at_least) {
  std::size_t total = 0;
  for (const auto& target : lmask::fuzz::targets()) {
    for (const fs::path& file : inputs(kind, target.name)) {
      CAPTURE(file.string());
      const std::vector<std::uint8_t> bytes = read_bytes(file);
      CHECK_NOTHROW(target.entry(bytes.data(), bytes.size()));
      ++total;
    }
  }
  CHECK(total >= at_least);
}

}  // namespace

TEST_CASE("fuzz: the seed corpus of every target runs through its entry point") { run_all("corpus", 4); }

TEST_CASE("fuzz: inputs that once crashed a target are handled now") { run_all("regressions", 1); }
