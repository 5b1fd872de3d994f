// mask.cpp — the Mask type and its resolution changes.
#include "lmask/mask.h"

#include <algorithm>
#include <stdexcept>

#include "lmask/kernels.h"

namespace lmask {

Mask::Mask(Tensor values) : t_(std::move(values)) {
  if (t_.c() != 1) throw std::invalid_argument("mask must have one channel, got " + t_.shape().str());
  for (std::size_t i = 0; i < t_.numel(); ++i)
    if (t_.data()[i] != 0.f && t_.data()[i] != 1.f)
      throw std::invalid_argument("mask values must be 0 or 1");
}

Mask Mask::visible(int n, int h, int w) { return Mask(Tensor::filled({n, 1, h, w}, 1.f), Trusted{}); }
Mask Mask::removed(int n, int h, int w) { return Mask(Tensor({n, 1, h, w}), Trusted{}); }

void kernels::window_any(float* out, const float* m, int n, int h, int w, int oh, int ow, int kernel, int stride,
                         int padding, int dilation) {
  for (int i = 0; i < n; ++i) {
    const float* in = m + static_cast<std::size_t>(i) * h * w;
    float* o = out + static_cast<std::size_t>(i) * oh * ow;
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox) {
        float v = 0.f;
        for (int ky = 0; ky < kernel && v == 0.f; ++ky) {
          const int iy = oy * stride - padding + ky * dilation;
          if (iy < 0 || iy >= h) continue;
          for (int kx = 0; kx < kernel; ++kx) {
            const int ix = ox * stride - padding + kx * dilation;
            if (ix >= 0 && ix < w && in[iy * w + ix] != 0.f) {
              v = 1.f;
              break;
            }
          }
        }
        o[oy * ow + ox] = v;
      }
  }
}

void kernels::bins_any(float* out, const float* m, int n, int h, int w, int size) {
  for (int i = 0; i < n; ++i) {
    const float* in = m + static_cast<std::size_t>(i) * h * w;
    float* o = out + static_cast<std::size_t>(i) * size * size;
    for (int oy = 0; oy < size; ++oy)
      for (int ox = 0; ox < size; ++ox) {
        const int y0 = adaptive_bin_begin(oy, h, size), y1 = adaptive_bin_end(oy, h, size);
        const int x0 = adaptive_bin_begin(ox, w, size), x1 = adaptive_bin_end(ox, w, size);
        bool any = false;
        for (int y = y0; y < y1 && !any; ++y)
          for (int x = x0; x < x1 && !any; ++x) any = in[y * w + x] != 0.f;
        o[oy * size + ox] = any ? 1.f : 0.f;
      }
  }
}

namespace {

// The mask of a window op, as a new tensor.
Tensor window_any(const Mask& m, int oh, int ow, int kernel, int stride, int padding, int dilation) {
  Tensor out = Tensor::uninitialized({m.n(), 1, oh, ow});
  kernels::window_any(out.data(), m.tensor().data(), m.n(), m.h(), m.w(), oh, ow, kernel, stride, padding, dilation);
  return out;
}

}  // namespace

Mask Mask::pooled(int kernel, int stride, int padding, int dilation) const {
  const int span = dilation * (kernel - 1) + 1;
  const int oh = (h() + 2 * padding - span) / stride + 1;
  const int ow = (w() + 2 * padding - span) / stride + 1;
  return Mask(window_any(*this, oh, ow, kernel, stride, padding, dilation), Trusted{});
}

Mask Mask::pooled(const PoolParams& p) const {
  return Mask(window_any(*this, p.out_size(h()), p.out_size(w()), p.kernel, p.stride, p.padding, 1),
              Trusted{});
}

Mask Mask::operator*(const Mask& other) const {
  check_shape(other.t_, t_.shape(), "mask product");
  Tensor out(t_.shape());
  for (std::size_t i = 0; i < t_.numel(); ++i) out.data()[i] = t_.data()[i] * other.t_.data()[i];
  return Mask(out, Trusted{});
}

void Mask::apply(Tensor& x) const {
  if (x.n() != n() || x.h() != h() || x.w() != w())
    throw std::invalid_argument("mask " + t_.shape().str() + " does not fit activation " +
                                x.shape().str());
  const std::size_t plane = t_.shape().plane_size();
#pragma omp parallel for collapse(2) schedule(static)
  for (int i = 0; i < x.n(); ++i)
    for (int c = 0; c < x.c(); ++c) {
      const float* m = image(i);
      float* v = x.image(i) + c * plane;
      for (std::size_t j = 0; j < plane; ++j) v[j] *= m[j];
    }
}

std::size_t Mask::count_visible(int image_index) const {
  const float* m = image(image_index);
  return static_cast<std::size_t>(std::count(m, m + t_.shape().plane_size(), 1.f));
}

std::size_t Mask::count_visible() const {
  return static_cast<std::size_t>(std::count(t_.data(), t_.data() + t_.numel(), 1.f));
}

double Mask::visible_fraction() const {
  return t_.numel() ? double(count_visible()) / double(t_.numel()) : 0.0;
}

bool Mask::all_visible() const { return count_visible() == t_.numel(); }

std::vector<int> Mask::visible_positions() const {
  std::vector<int> pos;
  pos.reserve(t_.numel());
  for (std::size_t i = 0; i < t_.numel(); ++i)
    if (t_.data()[i] != 0.f) pos.push_back(static_cast<int>(i));
  return pos;
}

}  // namespace lmask
