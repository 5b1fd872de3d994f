// image_resize.cpp — Pillow's Image.resize for BILINEAR and NEAREST, bit for bit.
//
// Reimplemented from Pillow's published algorithm (libImaging Resample.c and
// Geometry.c, 9.x), because the network's golden inputs were made with it and
// any other bilinear filter differs by ±1 in many bytes.
//
// BILINEAR is a separable convolution with a triangle filter stretched by the
// shrink factor (that stretch is the antialiasing): a horizontal pass into a
// uint8 image, then a vertical pass, each with 22-bit fixed-point weights. The
// intermediate rounding to uint8 is part of the result, so the pass order and
// every floating-point expression below follow Pillow's exactly.
#include "lmask/image.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace lmask {

namespace {

constexpr int kPrecisionBits = 22;  // Pillow's PRECISION_BITS for 8-bit images

// The weights of one output pixel: input samples [first, first + weights.size()).
struct Taps {
  int first = 0;
  std::vector<int> weights;  // fixed point, sum ~ 1 << kPrecisionBits
};

double triangle(double x) {
  x = std::fabs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

// Pillow's precompute_coeffs + normalize_coeffs_8bpc for box [0, in_size).
std::vector<Taps> bilinear_taps(int in_size, int out_size) {
  // Pillow passes the box as floats and takes their difference in float.
  const float box0 = 0.0f, box1 = static_cast<float>(in_size);
  const double scale = static_cast<double>(box1 - box0) / out_size;
  const double filterscale = std::max(scale, 1.0);
  const double support = 1.0 * filterscale;  // the triangle's support is 1
  const double inv_filterscale = 1.0 / filterscale;  // Pillow multiplies by this

  std::vector<Taps> taps(out_size);
  std::vector<double> k;
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = box0 + (xx + 0.5) * scale;
    const int xmin = std::max(static_cast<int>(center - support + 0.5), 0);
    const int xmax = std::min(static_cast<int>(center + support + 0.5), in_size) - xmin;
    k.assign(std::max(xmax, 0), 0.0);
    double sum = 0.0;
    for (int x = 0; x < xmax; ++x) {
      k[x] = triangle((x + xmin - center + 0.5) * inv_filterscale);
      sum += k[x];
    }
    Taps& t = taps[xx];
    t.first = xmin;
    t.weights.resize(k.size());
    for (std::size_t x = 0; x < k.size(); ++x) {
      const double w = sum != 0.0 ? k[x] / sum : k[x];
      const double scaled = w * (1 << kPrecisionBits);
      t.weights[x] = static_cast<int>(w < 0 ? scaled - 0.5 : scaled + 0.5);
    }
  }
  return taps;
}

// Pillow's clip8: the accumulator started at one half, so the shift rounds.
std::uint8_t clip8(int acc) {
  if (acc >= (256 << kPrecisionBits)) return 255;
  if (acc <= 0) return 0;
  return static_cast<std::uint8_t>(acc >> kPrecisionBits);
}

// Rows [row0, row0 + out.height) of `in`, resampled along x.
void horizontal_pass(const ImageU8& in, int row0, const std::vector<Taps>& taps, ImageU8& out) {
  for (int y = 0; y < out.height; ++y) {
    const std::uint8_t* src = in.pixel(0, row0 + y);
    std::uint8_t* dst = out.pixel(0, y);
    for (int xx = 0; xx < out.width; ++xx) {
      const Taps& t = taps[xx];
      int acc[3] = {1 << (kPrecisionBits - 1), 1 << (kPrecisionBits - 1), 1 << (kPrecisionBits - 1)};
      for (std::size_t i = 0; i < t.weights.size(); ++i) {
        const std::uint8_t* p = src + (t.first + i) * 3;
        for (int c = 0; c < 3; ++c) acc[c] += p[c] * t.weights[i];
      }
      for (int c = 0; c < 3; ++c) dst[xx * 3 + c] = clip8(acc[c]);
    }
  }
}

// Resampled along y; taps' `first` are relative to in's row 0.
void vertical_pass(const ImageU8& in, const std::vector<Taps>& taps, ImageU8& out) {
  const std::size_t stride = static_cast<std::size_t>(in.width) * 3;
  for (int yy = 0; yy < out.height; ++yy) {
    const Taps& t = taps[yy];
    std::uint8_t* dst = out.pixel(0, yy);
    for (std::size_t x = 0; x < stride; ++x) {
      int acc = 1 << (kPrecisionBits - 1);
      const std::uint8_t* src = in.rgb.data() + static_cast<std::size_t>(t.first) * stride + x;
      for (std::size_t i = 0; i < t.weights.size(); ++i) acc += src[i * stride] * t.weights[i];
      dst[x] = clip8(acc);
    }
  }
}

void check_sizes(const ImageU8& img, int out_w, int out_h, const char* what) {
  if (img.width <= 0 || img.height <= 0 ||
      img.rgb.size() != static_cast<std::size_t>(img.width) * img.height * 3)
    throw std::invalid_argument(std::string(what) + ": empty or inconsistent input image");
  if (out_w <= 0 || out_h <= 0)
    throw std::invalid_argument(std::string(what) + ": output size must be positive, got " +
                                std::to_string(out_w) + "x" + std::to_string(out_h));
}

}  // namespace

ImageU8 resize_bilinear_pil(const ImageU8& img, int out_w, int out_h) {
  check_sizes(img, out_w, out_h, "resize_bilinear_pil");
  // Pillow skips a pass whose size is unchanged (the image is then copied).
  const bool horizontal = out_w != img.width;
  const bool vertical = out_h != img.height;
  if (!horizontal && !vertical) return img;

  std::vector<Taps> vtaps = bilinear_taps(img.height, out_h);
  if (!horizontal) {
    ImageU8 out(out_w, out_h);
    vertical_pass(img, vtaps, out);
    return out;
  }
  // The horizontal pass only computes the rows the vertical pass will read.
  const int row_first = vertical ? vtaps.front().first : 0;
  const int row_last = vertical ? vtaps.back().first + int(vtaps.back().weights.size()) : img.height;
  ImageU8 temp(out_w, row_last - row_first);
  horizontal_pass(img, row_first, bilinear_taps(img.width, out_w), temp);
  if (!vertical) return temp;
  for (Taps& t : vtaps) t.first -= row_first;
  ImageU8 out(out_w, out_h);
  vertical_pass(temp, vtaps, out);
  return out;
}

ImageU8 resize_nearest_pil(const ImageU8& img, int out_w, int out_h) {
  check_sizes(img, out_w, out_h, "resize_nearest_pil");
  if (out_w == img.width && out_h == img.height) return img;
  // Pillow's affine "scale" path: the source coordinate of output pixel i is
  // accumulated as 0.5*step + i*step by repeated addition (not multiplied),
  // then truncated. The accumulation's rounding decides ties, so keep it.
  // A coordinate that lands outside the input leaves the pixel black, as in
  // Pillow (it cannot happen for plain resizes, but costs nothing to match).
  const double step_x = static_cast<double>(static_cast<float>(img.width)) / out_w;
  const double step_y = static_cast<double>(static_cast<float>(img.height)) / out_h;
  auto source = [](double pos, int size) {
    const int i = pos < 0.0 ? -1 : static_cast<int>(pos);
    return i < size ? i : -1;
  };
  std::vector<int> src_x(out_w);
  double xo = step_x * 0.5;
  for (int x = 0; x < out_w; ++x, xo += step_x) src_x[x] = source(xo, img.width);
  ImageU8 out(out_w, out_h);  // zero-filled
  double yo = step_y * 0.5;
  for (int y = 0; y < out_h; ++y, yo += step_y) {
    const int sy = source(yo, img.height);
    if (sy < 0) continue;
    std::uint8_t* dst = out.pixel(0, y);
    for (int x = 0; x < out_w; ++x) {
      if (src_x[x] < 0) continue;
      const std::uint8_t* p = img.pixel(src_x[x], sy);
      dst[x * 3 + 0] = p[0], dst[x * 3 + 1] = p[1], dst[x * 3 + 2] = p[2];
    }
  }
  return out;
}

}  // namespace lmask
