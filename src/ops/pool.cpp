// pool.cpp — max-pool and adaptive average pool. avgpool.cpp holds the
// windowed average; the output size (PoolParams) is src/core/pool_params.cpp.
#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

#include "lmask/kernels.h"
#include "lmask/mask_rules.h"
#include "lmask/ops.h"

namespace lmask {

int pool_out_size(int in, int kernel, int stride, int padding) {
  return (in + 2 * padding - kernel) / stride + 1;
}

void maxpool2d(Tensor& y, const Tensor& x, int kernel, int stride, int padding) {
  maxpool2d(y, x, PoolParams{kernel, stride, padding});
}

void kernels::maxpool(float* y, const float* x, const Shape& s, const PoolParams& p, int oh, int ow) {
  const int kernel = p.kernel, stride = p.stride, padding = p.padding;
  const int planes = s.n * s.c;
#pragma omp parallel for schedule(static)
  for (int pl = 0; pl < planes; ++pl) {
    const float* in = x + static_cast<std::size_t>(pl) * s.h * s.w;
    float* out = y + static_cast<std::size_t>(pl) * oh * ow;
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox) {
        // The window clipped to the image: padding, and in ceil mode the
        // positions past the input, are skipped, so they never win the max.
        float best = -std::numeric_limits<float>::infinity();
        const int y0 = std::max(oy * stride - padding, 0);
        const int y1 = std::min(oy * stride - padding + kernel, s.h);
        const int x0 = std::max(ox * stride - padding, 0);
        const int x1 = std::min(ox * stride - padding + kernel, s.w);
        for (int iy = y0; iy < y1; ++iy)
          for (int ix = x0; ix < x1; ++ix) best = std::max(best, in[iy * s.w + ix]);
        out[oy * ow + ox] = best;
      }
  }
}

void maxpool2d(Tensor& y, const Tensor& x, const PoolParams& p) {
  const int oh = p.out_size(x.h()), ow = p.out_size(x.w());
  check_shape(y, {x.n(), x.c(), oh, ow}, "maxpool2d output");
  kernels::maxpool(y.data(), x.data(), x.shape(), p, oh, ow);
}

void kernels::adaptive_avgpool(float* y, const float* x, const Shape& s, int oh, int ow) {
  const int h = s.h, w = s.w;
  const int planes = s.n * s.c;
#pragma omp parallel for schedule(static)
  for (int pl = 0; pl < planes; ++pl) {
    const float* in = x + static_cast<std::size_t>(pl) * h * w;
    float* out = y + static_cast<std::size_t>(pl) * oh * ow;
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox) {
        const int y0 = adaptive_bin_begin(oy, h, oh), y1 = adaptive_bin_end(oy, h, oh);
        const int x0 = adaptive_bin_begin(ox, w, ow), x1 = adaptive_bin_end(ox, w, ow);
        double sum = 0.0;
        for (int iy = y0; iy < y1; ++iy)
          for (int ix = x0; ix < x1; ++ix) sum += in[iy * w + ix];
        out[oy * ow + ox] = static_cast<float>(sum / ((y1 - y0) * (x1 - x0)));
      }
  }
}

void adaptive_avgpool2d(Tensor& y, const Tensor& x) {
  if (y.n() != x.n() || y.c() != x.c()) throw std::invalid_argument("adaptive_avgpool2d: shape");
  kernels::adaptive_avgpool(y.data(), x.data(), x.shape(), y.h(), y.w());
}

void kernels::masked_adaptive_avgpool(float* y, const float* x, const float* m, const Shape& s, int size) {
  const int h = s.h, w = s.w;
  const std::size_t plane = s.plane_size();
  for (int n = 0; n < s.n; ++n)
    for (int c = 0; c < s.c; ++c) {
      const float* in = x + (static_cast<std::size_t>(n) * s.c + c) * plane;
      const float* mask = m + static_cast<std::size_t>(n) * plane;
      float* out = y + (static_cast<std::size_t>(n) * s.c + c) * size * size;
      for (int oy = 0; oy < size; ++oy)
        for (int ox = 0; ox < size; ++ox) {
          const int y0 = adaptive_bin_begin(oy, h, size), y1 = adaptive_bin_end(oy, h, size);
          const int x0 = adaptive_bin_begin(ox, w, size), x1 = adaptive_bin_end(ox, w, size);
          double sum = 0.0, visible = 0.0;
          for (int iy = y0; iy < y1; ++iy)
            for (int ix = x0; ix < x1; ++ix) {
              const float mv = mask[iy * w + ix];
              sum += double(in[iy * w + ix]) * mv, visible += mv;
            }
          out[oy * size + ox] = static_cast<float>(rules::visible_mean(sum, visible, double(y1 - y0) * (x1 - x0)));
        }
    }
}

}  // namespace lmask
