// partial_file.cpp — see partial_file.h.
#include "partial_file.h"

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "lmask/atomic_file.h"
#include "lmask/error.h"
#include "sealed_text.h"

namespace lmask::study {

namespace {

namespace fs = std::filesystem;

// 2: exact sums, the shard in the identity; 3: the checksum line (sealed_text.h).
constexpr StudyFileFormat kFormat{"lmask-study-partial", 3, "partial study file"};
constexpr const char* kFix = "delete it, or run without --resume to start over";

// Exact decimal text of a double, so that the identity compares settings exactly.
std::string exact(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a", v);
  return buf;
}

// Size and modification time: a retrained model written to the same path
// must not continue the old model's sums.
std::string file_stamp(const std::string& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return "?";
  const auto time = fs::last_write_time(path, ec);
  if (ec) return "?";
  return std::to_string(size) + " bytes, modified " + std::to_string(time.time_since_epoch().count());
}

}  // namespace

std::string run_identity(const StudyRun& run, std::size_t dataset_size) {
  const StudySettings& s = run.settings;
  std::string methods, fractions;
  for (const auto& m : s.methods) methods += (methods.empty() ? "" : "|") + m;
  for (double f : s.fractions) fractions += (fractions.empty() ? "" : "|") + exact(f);
  std::string id = "study=" + run.study + "; weights=" + run.weights + " (" + file_stamp(run.weights) +
                   "); dataset=" + run.dataset + " (" + std::to_string(dataset_size) + " images); limit=" +
                   std::to_string(s.limit) + "; seed=" + std::to_string(s.seed) + "; batch=" +
                   std::to_string(s.batch) + "; patch=" + std::to_string(s.patch) + "; methods=" + methods +
                   "; fractions=" + fractions + "; segmentation=" + s.segmentation + "; samples=" +
                   std::to_string(s.samples) + "; on_bad_file=" +
                   (s.on_bad_file == BadFilePolicy::skip ? "skip" : "stop");
  for (char& ch : id)
    if (ch == '\n' || ch == '\r') ch = ' ';
  return id;
}

PartialFile::PartialFile(std::string path, std::string identity, bool resume)
    : path_(std::move(path)), identity_(std::move(identity)), resume_(resume) {}

std::string PartialFile::load() {
  if (!resume_) return "";
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(path_, ec))) return "";  // nothing to resume: start from the first image
  const std::string all = unsealed_text(read_study_file(path_), kFormat, path_, kFix);
  const std::size_t id_end = all.find('\n');
  if (id_end == std::string::npos || all.compare(0, id_end, identity_) != 0)
    throw InputError(path_, "was written by a run with other settings, weights or dataset; run with the same "
                            "ones to resume, or without --resume to start over");
  return all.substr(id_end + 1);
}

void PartialFile::save(const std::string& state) {
  write_text_atomically(path_, sealed_text(kFormat, identity_ + "\n" + state));
}

void PartialFile::remove() {
  std::error_code ec;
  fs::remove(path_, ec);
}

}  // namespace lmask::study
