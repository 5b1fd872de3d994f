// pool.cpp — max-pool and adaptive average pool.
#include <algorithm>
#include <limits>
#include <stdexcept>

#include "lmask/ops.h"

namespace lmask {

int pool_out_size(int in, int kernel, int stride, int padding) {
  return (in + 2 * padding - kernel) / stride + 1;
}

void maxpool2d(Tensor& y, const Tensor& x, int kernel, int stride, int padding) {
  const int oh = pool_out_size(x.h(), kernel, stride, padding);
  const int ow = pool_out_size(x.w(), kernel, stride, padding);
  check_shape(y, {x.n(), x.c(), oh, ow}, "maxpool2d output");
  const int planes = x.n() * x.c();
#pragma omp parallel for schedule(static)
  for (int pl = 0; pl < planes; ++pl) {
    const float* in = x.data() + static_cast<std::size_t>(pl) * x.h() * x.w();
    float* out = y.data() + static_cast<std::size_t>(pl) * oh * ow;
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox) {
        // Padding positions are skipped, so they never win the max.
        float best = -std::numeric_limits<float>::infinity();
        const int y0 = std::max(oy * stride - padding, 0);
        const int y1 = std::min(oy * stride - padding + kernel, x.h());
        const int x0 = std::max(ox * stride - padding, 0);
        const int x1 = std::min(ox * stride - padding + kernel, x.w());
        for (int iy = y0; iy < y1; ++iy)
          for (int ix = x0; ix < x1; ++ix) best = std::max(best, in[iy * x.w() + ix]);
        out[oy * ow + ox] = best;
      }
  }
}

void adaptive_avgpool2d(Tensor& y, const Tensor& x) {
  if (y.n() != x.n() || y.c() != x.c()) throw std::invalid_argument("adaptive_avgpool2d: shape");
  const int oh = y.h(), ow = y.w(), h = x.h(), w = x.w();
  const int planes = x.n() * x.c();
#pragma omp parallel for schedule(static)
  for (int pl = 0; pl < planes; ++pl) {
    const float* in = x.data() + static_cast<std::size_t>(pl) * h * w;
    float* out = y.data() + static_cast<std::size_t>(pl) * oh * ow;
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox) {
        // PyTorch's bins: [floor(i*H/OH), ceil((i+1)*H/OH)).
        const int y0 = oy * h / oh, y1 = ((oy + 1) * h + oh - 1) / oh;
        const int x0 = ox * w / ow, x1 = ((ox + 1) * w + ow - 1) / ow;
        double sum = 0.0;
        for (int iy = y0; iy < y1; ++iy)
          for (int ix = x0; ix < x1; ++ix) sum += in[iy * w + ix];
        out[oy * ow + ox] = static_cast<float>(sum / ((y1 - y0) * (x1 - x0)));
      }
  }
}

}  // namespace lmask
