// segmentation.cpp — square patches as segments. SLIC lives in slic.cpp.
#include <stdexcept>

#include "lmask/mask_builders.h"
#include "lmask/segmentation.h"

namespace lmask {

Segmentation grid_segments(int h, int w, int patch) {
  if (h <= 0 || w <= 0) throw std::invalid_argument("grid_segments: image size must be positive");
  Segmentation seg{h, w, patch_count(h, w, patch), {}};  // patch_count checks patch > 0
  const int cols = (w + patch - 1) / patch;                // the same layout as patch_mask
  seg.labels.resize(static_cast<std::size_t>(h) * w);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) seg.labels[y * w + x] = (y / patch) * cols + x / patch;
  return seg;
}

}  // namespace lmask
