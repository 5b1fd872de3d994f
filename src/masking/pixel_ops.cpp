// pixel_ops.cpp — the pixel-space pieces of input masking: compositing and
// the 5x5 Gaussian blur.
#include <array>
#include <cmath>
#include <stdexcept>

#include "lmask/masking.h"

namespace lmask {

namespace {

// torchvision's _get_gaussian_kernel1d(5, 1.0): x = -2..2, exp(-x^2/2), normalised.
std::array<float, 5> gaussian_kernel5() {
  std::array<float, 5> k{};
  float sum = 0.f;
  for (int i = 0; i < 5; ++i) sum += k[i] = std::exp(-0.5f * float((i - 2) * (i - 2)));
  for (float& v : k) v /= sum;
  return k;
}

// Reflect padding without repeating the edge: -1 -> 1, n -> n-2.
int reflect(int i, int n) {
  if (n == 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
  return i;
}

}  // namespace

Tensor gaussian_blur5(const Tensor& img) {
  const auto k = gaussian_kernel5();
  const int h = img.h(), w = img.w();
  Tensor tmp(img.shape()), out(img.shape());
  const int planes = img.n() * img.c();
#pragma omp parallel for schedule(static)
  for (int pl = 0; pl < planes; ++pl) {
    const float* in = img.data() + std::size_t(pl) * h * w;
    float* t = tmp.data() + std::size_t(pl) * h * w;
    float* o = out.data() + std::size_t(pl) * h * w;
    for (int y = 0; y < h; ++y)  // horizontal pass
      for (int x = 0; x < w; ++x) {
        float s = 0.f;
        for (int i = 0; i < 5; ++i) s += k[i] * in[y * w + reflect(x + i - 2, w)];
        t[y * w + x] = s;
      }
    for (int y = 0; y < h; ++y)  // vertical pass
      for (int x = 0; x < w; ++x) {
        float s = 0.f;
        for (int i = 0; i < 5; ++i) s += k[i] * t[reflect(y + i - 2, h) * w + x];
        o[y * w + x] = s;
      }
  }
  return out;
}

Tensor composite(const Tensor& img, const Mask& m, const Tensor& fill) {
  const bool broadcast = fill.n() == 1 && fill.h() == 1 && fill.w() == 1;
  if (!broadcast) check_shape(fill, img.shape(), "composite fill");
  if (m.n() != img.n() || m.h() != img.h() || m.w() != img.w())
    throw std::invalid_argument("mask " + m.tensor().shape().str() + " does not fit image " +
                                img.shape().str());
  Tensor out(img.shape());
  const std::size_t plane = img.shape().plane_size();
  for (int n = 0; n < img.n(); ++n)
    for (int c = 0; c < img.c(); ++c) {
      const float* src = img.image(n) + c * plane;
      const float* mask = m.image(n);
      float* dst = out.image(n) + c * plane;
      const float* f = broadcast ? nullptr : fill.image(n) + c * plane;
      const float fc = broadcast ? fill.data()[c] : 0.f;
      for (std::size_t i = 0; i < plane; ++i)
        dst[i] = src[i] * mask[i] + (broadcast ? fc : f[i]) * (1.f - mask[i]);
    }
  return out;
}

}  // namespace lmask
