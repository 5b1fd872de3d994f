// sealed_text.cpp — see sealed_text.h.
#include "sealed_text.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "lmask/error.h"
#include "lmask/lmw.h"
#include "lmask/regular_file.h"

namespace lmask::study {

namespace {

constexpr const char* kCrcPrefix = "crc32 ";
constexpr std::size_t kCrcLine = 6 + 8 + 1;  // "crc32 ", 8 hex digits, '\n'

std::uint32_t crc_of(const std::string& text, std::size_t size) {
  return crc32(reinterpret_cast<const std::uint8_t*>(text.data()), size);
}

std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", unsigned(v));
  return buf;
}

}  // namespace

std::string sealed_text(const StudyFileFormat& format, const std::string& body) {
  std::string text = format.tag() + "\n" + body;
  return text + kCrcPrefix + hex32(crc_of(text, text.size())) + "\n";
}

std::string unsealed_text(const std::string& text, const StudyFileFormat& format, const std::string& where,
                          const std::string& fix) {
  const auto refuse = [&](const std::string& problem) { return InputError(where, problem + "; " + fix); };
  const std::string name = std::string(format.name) + " ", tag = format.tag();
  const std::size_t tag_end = text.find('\n');
  if (text.compare(0, name.size(), name) != 0 || tag_end == std::string::npos)
    throw refuse("not a " + std::string(format.kind) + " (its first line is not '" + tag + "')");
  if (text.compare(0, tag_end, tag) != 0) {
    const long version = std::strtol(text.c_str() + name.size(), nullptr, 10);
    throw refuse("a " + std::string(format.kind) + " of format '" + text.substr(0, std::min<std::size_t>(tag_end, 60)) +
                 "', from " + (version < format.version ? "an older" : "a newer") + " lmask (this one reads '" +
                 tag + "')");
  }
  // The checksum line: the last, whole, and of exactly its form.
  const std::size_t crc_at = text.size() - std::min(text.size(), kCrcLine);
  const bool has_crc = text.size() >= tag_end + 1 + kCrcLine && text.back() == '\n' && text[crc_at - 1] == '\n' &&
                       text.compare(crc_at, 6, kCrcPrefix) == 0 &&
                       text.find_first_not_of("0123456789abcdef", crc_at + 6) == text.size() - 1;
  if (!has_crc) throw refuse("partial state ends too early (no checksum line: cut short?)");
  const std::string stored = text.substr(crc_at + 6, 8), computed = hex32(crc_of(text, crc_at));
  if (stored != computed)
    throw refuse("checksum mismatch (stored " + stored + ", computed " + computed + "): the file is damaged");
  return text.substr(tag_end + 1, crc_at - tag_end - 1);
}

std::string read_study_file(const std::string& path) { return read_regular_file(path, kMaxStudyFileBytes); }

}  // namespace lmask::study
