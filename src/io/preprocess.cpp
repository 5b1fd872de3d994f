// preprocess.cpp — torchvision's Resize + CenterCrop + ToTensor + Normalize.
//
// Each step copies torchvision 0.14's arithmetic (integer truncation of the
// long side, round-half-even crop offsets, float32 v / 255), because the
// golden inputs were made with it and a one-pixel shift changes the logits.
#include "lmask/image.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "lmask/error.h"

namespace lmask {

namespace {

// Python's round(n / 2.0) for n >= 0: halves go to the even neighbour.
int half_round_even(int n) {
  int half = n / 2;
  if (n % 2 == 1 && half % 2 == 1) ++half;
  return half;
}

// CenterCrop's offset of the crop in one dimension. When the image is smaller
// than the crop torchvision first pads (left/top gets the floor of half the
// shortfall) and then crops at 0, i.e. a negative offset.
int crop_offset(int size, int out) {
  return size >= out ? half_round_even(size - out) : -((out - size) / 2);
}

}  // namespace

ImageU8 center_crop(const ImageU8& img, int out_w, int out_h) {
  if (out_w <= 0 || out_h <= 0)
    throw std::invalid_argument("center_crop: crop size must be positive, got " +
                                std::to_string(out_w) + "x" + std::to_string(out_h));
  const int x0 = crop_offset(img.width, out_w);
  const int y0 = crop_offset(img.height, out_h);
  ImageU8 out(out_w, out_h);  // zero-filled: padding is black
  for (int y = 0; y < out_h; ++y) {
    const int sy = y + y0;
    if (sy < 0 || sy >= img.height) continue;
    const int first = std::max(0, -x0), last = std::min(out_w, img.width - x0);
    if (first < last)
      std::copy_n(img.pixel(first + x0, sy), (last - first) * 3, out.pixel(first, y));
  }
  return out;
}

ResizedSize resized_size(int width, int height, int resize_short, const std::string& source) {
  if (resize_short <= 0) throw std::invalid_argument("resized_size: resize size must be positive");
  if (width <= 0 || height <= 0)
    throw InputError(source, "picture has zero width or height (" + std::to_string(width) + "x" +
                                 std::to_string(height) + ")");
  // Resize(int): shorter side -> resize_short, longer side int(resize_short *
  // long / short) in double, as Python computes it.
  const bool wide = width > height;
  const int short_side = wide ? height : width;
  const int long_side = wide ? width : height;
  const double new_long = static_cast<double>(static_cast<long long>(resize_short) * long_side) / short_side;
  // A thin sliver (1 x 100000 px) would grow to an enormous picture; it is
  // refused in double, before the cast to int could overflow.
  if (new_long * resize_short > static_cast<double>(kMaxImagePixels))
    throw InputError(source, "a " + std::to_string(width) + "x" + std::to_string(height) +
                                 " picture resized to " + std::to_string(resize_short) +
                                 " px on its shorter side exceeds the limit of " +
                                 std::to_string(kMaxImagePixels) + " pixels (sides too unequal)");
  const int resized_long = static_cast<int>(new_long);
  return wide ? ResizedSize{resized_long, resize_short} : ResizedSize{resize_short, resized_long};
}

Tensor preprocess_01(const ImageU8& img, int resize_short, int crop, const std::string& source) {
  if (resize_short <= 0 || crop <= 0)
    throw std::invalid_argument("preprocess_01: resize and crop sizes must be positive");
  const ResizedSize size = resized_size(img.width, img.height, resize_short, source);
  const int new_w = size.width, new_h = size.height;
  const ImageU8 cropped = center_crop(resize_bilinear_pil(img, new_w, new_h), crop, crop);

  // ToTensor: HWC bytes -> CHW floats, byte / 255 in float32.
  Tensor x(Shape{1, 3, crop, crop});
  const std::size_t plane = static_cast<std::size_t>(crop) * crop;
  for (std::size_t i = 0; i < plane; ++i)
    for (int c = 0; c < 3; ++c) x.data()[c * plane + i] = static_cast<float>(cropped.rgb[i * 3 + c]) / 255.0f;
  return x;
}

void normalize(Tensor& x, const std::vector<float>& mean, const std::vector<float>& std) {
  if (x.c() != 3 || mean.size() != 3 || std.size() != 3)
    throw std::invalid_argument("normalize: needs [N,3,H,W] and 3 means and stds, got " +
                                x.shape().str());
  const std::size_t plane = x.shape().plane_size();
  for (int n = 0; n < x.n(); ++n)
    for (int c = 0; c < 3; ++c) {
      float* p = x.image(n) + c * plane;
      // (x - mean) / std, not * (1/std): torchvision's sub_ then div_.
      for (std::size_t i = 0; i < plane; ++i) p[i] = (p[i] - mean[c]) / std[c];
    }
}

ImageU8 tensor01_to_image(const Tensor& x01, int index) {
  if (x01.c() != 3 && x01.c() != 1)
    throw std::invalid_argument("tensor01_to_image: needs 1 or 3 channels, got " + x01.shape().str());
  if (index < 0 || index >= x01.n())
    throw std::invalid_argument("tensor01_to_image: image " + std::to_string(index) +
                                " out of range for " + x01.shape().str());
  ImageU8 img(x01.w(), x01.h());
  const std::size_t plane = x01.shape().plane_size();
  const float* src = x01.image(index);
  for (std::size_t i = 0; i < plane; ++i)
    for (int c = 0; c < 3; ++c) {
      const float v = src[(x01.c() == 3 ? c : 0) * plane + i];
      // NaN compares false both ways and would survive clamp: map it to 0.
      const float clamped = v > 0.0f ? std::min(v, 1.0f) : 0.0f;
      img.rgb[i * 3 + c] = static_cast<std::uint8_t>(std::lround(clamped * 255.0f));
    }
  return img;
}

}  // namespace lmask
