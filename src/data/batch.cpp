// batch.cpp — gathers consecutive samples into one [N,...] batch.
#include <algorithm>
#include <stdexcept>

#include "lmask/dataset.h"
#include "lmask/mask_builders.h"

namespace lmask {

Batch load_batch(const Dataset& data, std::size_t first, std::size_t count) {
  if (count == 0 || first + count > data.size()) throw std::out_of_range("load_batch: range outside the dataset");
  Batch b;
  std::vector<Mask> objects;
  for (std::size_t i = 0; i < count; ++i) {
    Sample s = data.get(first + i);
    if (i == 0) {
      b.images01 = Tensor({static_cast<int>(count), 3, s.image01.h(), s.image01.w()});
    }
    std::copy(s.image01.data(), s.image01.data() + s.image01.numel(), b.images01.image(static_cast<int>(i)));
    b.labels.push_back(s.label);
    b.names.push_back(std::move(s.name));
    if (!s.object.empty()) objects.push_back(std::move(s.object));
  }
  if (objects.size() == count) b.objects = stack_masks(objects);
  return b;
}

}  // namespace lmask
