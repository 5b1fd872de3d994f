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

}  // namespace lmask::study
