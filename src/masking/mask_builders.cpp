// mask_builders.cpp — patch grids, segments, shapes and PNG masks.
#include "lmask/mask_builders.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

#include "lmask/error.h"
#include "lmask/image.h"

namespace lmask {

namespace {
// ceil(size / patch) without forming size + patch - 1, which overflows for
// a huge patch.
int cells(int size, int patch) { return size > 0 ? (size - 1) / patch + 1 : 0; }
}  // namespace

int patch_count(int h, int w, int patch) {
  if (patch <= 0) throw std::invalid_argument("patch size must be positive");
  if (h < 0 || w < 0) throw std::invalid_argument("image size must not be negative");
  return cells(h, patch) * cells(w, patch);
}

Mask patch_mask(int h, int w, int patch, const std::vector<int>& removed_ids) {
  const int count = patch_count(h, w, patch), cols = cells(w, patch);
  Tensor m = Tensor::filled({1, 1, h, w}, 1.f);
  for (int id : removed_ids) {
    if (id < 0 || id >= count) throw std::out_of_range("patch id " + std::to_string(id) + " out of range");
    // y0 < h and x0 < w, so the ends below never overflow.
    const int y0 = (id / cols) * patch, x0 = (id % cols) * patch;
    const int y1 = y0 + std::min(patch, h - y0), x1 = x0 + std::min(patch, w - x0);
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x) m.data()[std::size_t(y) * w + x] = 0.f;
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
  // Written so that NaN fails too.
  if (!(fraction >= 0.0 && fraction <= 1.0)) throw std::invalid_argument("fraction must be in [0,1]");
  const int count = patch_count(h, w, patch);
  std::vector<int> order = random_order(count, seed);
  order.resize(static_cast<std::size_t>(std::lround(fraction * count)));
  return patch_mask(h, w, patch, order);
}

Mask segment_mask(const std::vector<int>& segments, int h, int w, const std::vector<int>& removed_ids) {
  if (h < 0 || w < 0 || segments.size() != static_cast<std::size_t>(h) * w)
    throw std::invalid_argument("segment map size does not match the image");
  // h*w pixels hold at most h*w segments, so the flag table is sized by the
  // image, not by the largest id (which could be anything up to INT_MAX).
  const std::size_t ids = segments.size();
  std::vector<char> removed(ids, 0);
  for (int id : removed_ids)
    if (id >= 0 && std::size_t(id) < ids) removed[id] = 1;
  Tensor m({1, 1, h, w});
  for (std::size_t i = 0; i < ids; ++i)
    m.data()[i] = segments[i] >= 0 && std::size_t(segments[i]) < ids && removed[segments[i]] ? 0.f : 1.f;
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

Mask mask_from_image(const ImageU8& raw, int resize_short, int crop, bool invert, const std::string& source) {
  if (crop <= 0) throw std::invalid_argument("mask_from_image: crop size must be positive");
  // torchvision Resize(resize_short, NEAREST) + CenterCrop(crop).
  const ResizedSize size = resized_size(raw.width, raw.height, resize_short, source);
  const ImageU8 cropped = center_crop(resize_nearest_pil(raw, size.width, size.height), crop, crop);
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
  // Lossy compression leaves small non-zero values in removed (black) areas,
  // which the non-zero-is-visible rule would silently turn visible.
  if (is_jpeg_file(path))
    throw InputError(path, "mask is a JPEG; its compression noise makes removed (black) pixels non-zero, "
                           "save the mask as PNG");
  const ImageU8 raw = read_image(path);
  if (raw.width != expected_w || raw.height != expected_h)
    throw InputError(path, "mask is " + std::to_string(raw.width) + "x" + std::to_string(raw.height) +
                               " but the image is " + std::to_string(expected_w) + "x" +
                               std::to_string(expected_h) + "; draw the mask at the image's size");
  return mask_from_image(raw, resize_short, crop, invert, path);
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
