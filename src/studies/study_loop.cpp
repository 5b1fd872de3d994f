// study_loop.cpp — see study_loop.h.
#include "study_loop.h"

namespace lmask::study {

ImageRange shard_images(std::size_t planned, std::size_t unit, const StudyShard& shard) {
  if (shard.count < 1 || shard.index < 0 || shard.index >= shard.count)
    throw InputError("--shard", "shard " + std::to_string(shard.index) + " of " + std::to_string(shard.count) +
                                    " does not exist (0 <= i < n)");
  const std::size_t units = (planned + unit - 1) / unit;
  const std::size_t n = std::size_t(shard.count), i = std::size_t(shard.index);
  // Shard i: units [i * units / n, (i + 1) * units / n).
  return {std::min(planned, i * units / n * unit), std::min(planned, (i + 1) * units / n * unit)};
}

std::size_t images_per_step(const StudyResult& r, const StudySettings& s) {
  return std::visit([&](const auto& result) { return images_per_step(result, s); }, r);
}

std::string resume_problem(const StudyCommon& c, std::size_t next, const ImageRange& range, std::size_t unit) {
  const std::string at = "resumes at image " + std::to_string(next);
  if (next < range.first || next > range.end)
    return at + ", outside this run's images " + std::to_string(range.first) + ".." + std::to_string(range.end - 1);
  const std::size_t done = next - range.first;
  if (done % unit != 0 && next != range.end)
    return at + ", inside a batch of " + std::to_string(unit) + " from image " + std::to_string(range.first);
  if (c.images + c.skipped != done)
    return at + ", but its counts are of " + std::to_string(c.images + c.skipped) + " images (" +
           std::to_string(c.skipped) + " of them skipped) from image " + std::to_string(range.first);
  return "";
}

}  // namespace lmask::study
