// sealed_text.h — the envelope of a study's own files (its checkpoint,
// partial_file.h, and its shard file, shard_file.h): a first line naming
// the format and its version, and a last line holding the CRC-32 (lmw.h's,
// the IEEE one) of everything before it. A flipped byte anywhere, a file
// cut short or a stray edit is then refused before any of its numbers is
// believed, and a file of another version is told apart from a damaged one.
// Internal to src/studies.
//
//   <format> <version>
//   ...                     the file's own lines
//   crc32 <8 hex digits>
#pragma once

#include <cstdint>
#include <string>

namespace lmask::study {

struct StudyFileFormat {
  const char* name;  // "lmask-study-shard"
  int version;
  const char* kind;  // "study shard file": what errors call it
  std::string tag() const { return std::string(name) + " " + std::to_string(version); }
};

// A study file is read whole: one far larger than any real one is a wrong file.
constexpr std::uint64_t kMaxStudyFileBytes = std::uint64_t(64) << 20;

// The format's tag as the first line, `body` (whole lines), the checksum line last.
std::string sealed_text(const StudyFileFormat& format, const std::string& body);

// What sealed_text took as the body. InputError(where, problem + "; " +
// fix) when the text is not of the format, is of another version, is cut
// short or its checksum does not match; `fix` says what to do about it
// ("delete it, or run without --resume to start over").
std::string unsealed_text(const std::string& text, const StudyFileFormat& format, const std::string& where,
                          const std::string& fix);

// The study file at `path`, read as a regular file only (a FIFO would
// block, a device never end) of at most kMaxStudyFileBytes.
std::string read_study_file(const std::string& path);

}  // namespace lmask::study
