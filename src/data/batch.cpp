// batch.cpp — gathers consecutive samples into one [N,...] batch, leaving
// out the unreadable ones when the run was told to skip them.
#include <algorithm>
#include <stdexcept>

#include "lmask/dataset.h"
#include "lmask/error.h"
#include "lmask/mask_builders.h"

namespace lmask {

BadFilePolicy parse_bad_file_policy(const std::string& name) {
  if (name == "stop") return BadFilePolicy::stop;
  if (name == "skip") return BadFilePolicy::skip;
  throw InputError("--on-bad-file", "'" + name + "' is not stop or skip");
}

Batch load_batch(const Dataset& data, std::size_t first, std::size_t count, BadFilePolicy policy,
                 std::vector<std::string>& skipped) {
  if (count == 0 || first + count > data.size()) throw std::out_of_range("load_batch: range outside the dataset");
  std::vector<Sample> samples;
  Batch b;
  for (std::size_t i = first; i < first + count; ++i) {
    try {
      samples.push_back(data.get(i));
    } catch (const InputError& e) {
      if (policy == BadFilePolicy::stop) throw;
      skipped.push_back(e.what());
      continue;
    }
    b.indices.push_back(i);
  }
  if (samples.empty()) return b;
  const int n = static_cast<int>(samples.size());
  b.images01 = Tensor({n, 3, samples[0].image01.h(), samples[0].image01.w()});
  std::vector<Mask> objects;
  for (int k = 0; k < n; ++k) {
    Sample& s = samples[k];
    std::copy(s.image01.data(), s.image01.data() + s.image01.numel(), b.images01.image(k));
    b.labels.push_back(s.label);
    b.names.push_back(std::move(s.name));
    if (!s.object.empty()) objects.push_back(std::move(s.object));
  }
  if (objects.size() == samples.size()) b.objects = stack_masks(objects);
  return b;
}

Batch load_batch(const Dataset& data, std::size_t first, std::size_t count) {
  std::vector<std::string> unused;
  return load_batch(data, first, count, BadFilePolicy::stop, unused);
}

}  // namespace lmask
