#include "memory_check.h"

#include <fmt/core.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <optional>
#include <stdexcept>

#include "lmask/embedded.h"
#include "lmask/error.h"
#include "lmask/parse_number.h"

namespace lmask::cli {

namespace {

// The number on the line of `file` that starts with `key` (the whole first
// line when key is empty); nothing when there is none (no such file, "max").
std::optional<std::uint64_t> number_in(const std::string& file, const std::string& key) {
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    if (line.compare(0, key.size(), key) != 0) continue;
    std::string digits = line.substr(key.size());
    digits.erase(0, digits.find_first_not_of(' '));
    digits = digits.substr(0, digits.find(' '));
    return strict_integer<std::uint64_t>(digits, 0, std::numeric_limits<std::uint64_t>::max());
  }
  return std::nullopt;
}

std::string gigabytes(std::uint64_t bytes) { return fmt::format("{:.1f} GB", double(bytes) / 1e9); }

std::uint64_t forward_bytes(const Graph& graph, int batch, int height, int width, bool masked) {
  return plan_arena(graph, batch, height, width, masked).arena_bytes;
}

}  // namespace

std::uint64_t available_memory_bytes() {
  std::uint64_t available = std::numeric_limits<std::uint64_t>::max();
  if (const auto kib = number_in("/proc/meminfo", "MemAvailable:")) available = *kib * 1024;
  // cgroup v2 (the limit is "max" when there is none); the usage is not yet
  // what can be reclaimed from it, so this errs on the side of refusing less.
  const auto limit = number_in("/sys/fs/cgroup/memory.max", "");
  const auto used = number_in("/sys/fs/cgroup/memory.current", "");
  if (limit && used) available = std::min(available, *limit > *used ? *limit - *used : 0);
  return available;
}

void require_memory_for(const Model& model, int batch, int height, int width, bool masked,
                        const std::string& where) {
  const Graph& graph = model.graph();  // BatchNorm folded, epilogues fused: what runs
  std::uint64_t need = 0;
  try {
    need = forward_bytes(graph, batch, height, width, masked);
  } catch (const std::invalid_argument&) {
    return;  // an input the network cannot take: the forward says so itself
  }
  const std::uint64_t available = available_memory_bytes();
  if (need <= available) return;
  // The plan grows with the batch: the largest batch that fits, by bisection.
  int fits = 0;
  for (int lo = 1, hi = batch - 1; lo <= hi;) {
    const int mid = lo + (hi - lo) / 2;
    if (forward_bytes(graph, mid, height, width, masked) <= available) fits = mid, lo = mid + 1;
    else hi = mid - 1;
  }
  const std::string what = fmt::format("a forward of batch {} at {}x{} needs at least {} (its arena plan), but {} "
                                       "of memory is available: ",
                                       batch, height, width, gigabytes(need), gigabytes(available));
  throw InputError(where, what + (fits ? fmt::format("at most --batch {} fits", fits)
                                       : std::string("not even one image of this size fits")));
}

}  // namespace lmask::cli
