// mask_builders.cpp — patch grids, segments, shapes and PNG masks.
#include "lmask/mask_builders.h"

#include <cmath>
#include <random>
#include <stdexcept>

#include "lmask/error.h"
#include "lmask/image.h"

namespace lmask {

int patch_count(int h, int w, int patch) {
  if (patch <= 0) throw std::invalid_argument("patch size must be positive");
  return ((h + patch - 1) / patch) * ((w + patch - 1) / patch);
}

Mask patch_mask(int h, int w, int patch, const std::vector<int>& removed_ids) {
  const int cols = (w + patch - 1) / patch, count = patch_count(h, w, patch);
  Tensor m = Tensor::filled({1, 1, h, w}, 1.f);
  for (int id : removed_ids) {
    if (id < 0 || id >= count) throw std::out_of_range("patch id " + std::to_string(id) + " out of range");
    const int y0 = (id / cols) * patch, x0 = (id % cols) * patch;
    for (int y = y0; y < std::min(y0 + patch, h); ++y)
      for (int x = x0; x < std::min(x0 + patch, w); ++x) m.data()[y * w + x] = 0.f;
  }
  return Mask(m);
}

std::vector<int> random_order(int count, std::uint64_t seed) {
  std::vector<int> order(count);
  for (int i = 0; i < count; ++i) order[i] = i;
  std::mt19937_64 rng(seed);
  // Fisher-Yates with a plain modulo draw (bias < 2^-50 for these sizes):
  // std::shuffle's algorithm is unspecified, this one is the same everywhere.
  for (int i = count - 1; i > 0; --i) std::swap(order[i], order[rng() % std::uint64_t(i + 1)]);
  return order;
}

Mask random_patch_mask(int h, int w, int patch, double fraction, std::uint64_t seed) {
  if (fraction < 0.0 || fraction > 1.0) throw std::invalid_argument("fraction must be in [0,1]");
  const int count = patch_count(h, w, patch);
  std::vector<int> order = random_order(count, seed);
  order.resize(static_cast<std::size_t>(std::lround(fraction * count)));
  return patch_mask(h, w, patch, order);
}

Mask segment_mask(const std::vector<int>& segments, int h, int w, const std::vector<int>& removed_ids) {
  if (segments.size() != static_cast<std::size_t>(h) * w)
    throw std::invalid_argument("segment map size does not match the image");
  int max_id = 0;
  for (int s : segments) max_id = std::max(max_id, s);
  std::vector<char> removed(max_id + 1, 0);
  for (int id : removed_ids)
    if (id >= 0 && id <= max_id) removed[id] = 1;
  Tensor m({1, 1, h, w});
  for (std::size_t i = 0; i < segments.size(); ++i)
    m.data()[i] = segments[i] >= 0 && removed[segments[i]] ? 0.f : 1.f;
  return Mask(m);
}

Mask rectangle_mask(int h, int w, int x0, int y0, int x1, int y1) {
  Tensor m = Tensor::filled({1, 1, h, w}, 1.f);
  for (int y = std::max(y0, 0); y < std::min(y1, h); ++y)
    for (int x = std::max(x0, 0); x < std::min(x1, w); ++x) m.data()[y * w + x] = 0.f;
  return Mask(m);
}

Mask disk_mask(int h, int w, double cx, double cy, double r) {
  Tensor m = Tensor::filled({1, 1, h, w}, 1.f);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r) m.data()[y * w + x] = 0.f;
  return Mask(m);
}

Mask mask_from_image(const ImageU8& raw, int resize_short, int crop, bool invert) {
  // torchvision Resize(resize_short, NEAREST) + CenterCrop(crop).
  const bool width_short = raw.width <= raw.height;
  const int s = width_short ? raw.width : raw.height, l = width_short ? raw.height : raw.width;
  const int long_side = static_cast<int>(static_cast<long long>(resize_short) * l / s);
  const ImageU8 resized = width_short ? resize_nearest_pil(raw, resize_short, long_side)
                                      : resize_nearest_pil(raw, long_side, resize_short);
  const ImageU8 cropped = center_crop(resized, crop, crop);
  Tensor m({1, 1, crop, crop});
  for (int y = 0; y < crop; ++y)
    for (int x = 0; x < crop; ++x) {
      const std::uint8_t* px = cropped.pixel(x, y);
      const bool nonzero = px[0] || px[1] || px[2];
      m.data()[y * crop + x] = (nonzero != invert) ? 1.f : 0.f;
    }
  return Mask(m);
}

Mask mask_from_png(const std::string& path, int expected_w, int expected_h, int resize_short,
                   int crop, bool invert) {
  const ImageU8 raw = read_image(path);
  if (raw.width != expected_w || raw.height != expected_h)
    throw InputError(path, "mask is " + std::to_string(raw.width) + "x" + std::to_string(raw.height) +
                               " but the image is " + std::to_string(expected_w) + "x" +
                               std::to_string(expected_h) + "; draw the mask at the image's size");
  return mask_from_image(raw, resize_short, crop, invert);
}

Mask stack_masks(const std::vector<Mask>& masks) {
  if (masks.empty()) throw std::invalid_argument("stack_masks: no masks");
  const int h = masks[0].h(), w = masks[0].w();
  int n = 0;
  for (const Mask& m : masks) {
    if (m.h() != h || m.w() != w) throw std::invalid_argument("stack_masks: sizes differ");
    n += m.n();
  }
  Tensor out({n, 1, h, w});
  float* dst = out.data();
  for (const Mask& m : masks)
    dst = std::copy(m.tensor().data(), m.tensor().data() + m.tensor().numel(), dst);
  return Mask(out);
}

}  // namespace lmask
