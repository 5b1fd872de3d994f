// study_file_text.h — a study's checkpoint or shard file as lines, for tests
// that edit one: split, and joined again with the checksum line (the last,
// "crc32 " and 8 hex digits: the CRC-32 of everything before it) recomputed,
// so that what refuses the edit is the check behind the checksum.
#pragma once

#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "study_file_seal.h"

namespace lmask::testing {

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t at = 0;
  for (std::size_t end; (end = text.find('\n', at)) != std::string::npos; at = end + 1)
    lines.push_back(text.substr(at, end - at));
  REQUIRE(at == text.size());  // every line ends in '\n'
  return lines;
}

// The lines joined; when the last is a checksum line, it is recomputed.
inline std::string resealed(std::vector<std::string> lines) {
  std::string body;
  const bool sealed = !lines.empty() && lines.back().rfind("crc32 ", 0) == 0;
  if (sealed) lines.pop_back();
  for (const auto& l : lines) body += l + "\n";
  return sealed ? with_checksum_line(body) : body;
}

}  // namespace lmask::testing
