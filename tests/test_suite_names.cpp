// test_suite_names.cpp — a check on the test suite itself. CTest learns the
// test cases from doctest_discover_tests, which keeps their names in a CMake
// list: a ';' in a name splits it into two "tests" whose filters match no
// case, so they pass while running nothing. Nine cases were silently
// skipped that way before this check existed.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

TEST_CASE("suite: no test case name holds a semicolon (CTest would split it and run nothing)") {
  namespace fs = std::filesystem;
  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(LMASK_SOURCE_DIR) / "tests")) {
    if (entry.path().extension() != ".cpp") continue;
    ++files;
    std::ifstream in(entry.path());
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
      const auto at = line.find("TEST_CASE(\"");
      if (at == std::string::npos) continue;
      const auto end = line.find("\")", at);
      const std::string name = line.substr(at + 11, end == std::string::npos ? std::string::npos : end - at - 11);
      CAPTURE(entry.path().filename().string() + ":" + std::to_string(number));
      CHECK(name.find(';') == std::string::npos);
    }
  }
  CHECK(files > 10);
}
