// study_file_seal.h — the checksum line of a study's checkpoint or shard
// file (src/studies/sealed_text.h: "crc32 " and 8 hex digits, the CRC-32 of
// everything before it), for tests and the fuzz target that edit such a
// file and must seal it again so that the checks behind the checksum are
// reached. No test framework here: the fuzz target includes it too.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "lmask/lmw.h"

namespace lmask::testing {

// `body` (whole lines) followed by its checksum line.
inline std::string with_checksum_line(const std::string& body) {
  char line[32];
  std::snprintf(line, sizeof line, "crc32 %08x\n",
                unsigned(crc32(reinterpret_cast<const std::uint8_t*>(body.data()), body.size())));
  return body + line;
}

}  // namespace lmask::testing
