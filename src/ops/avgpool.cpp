// avgpool.cpp — PyTorch's AvgPool2d (divisor_override unset), eval only.
//
// Per axis the window starts at o*s - p and ends at min(start + k, in + p):
// clipped to the padded input, so in ceil mode a window hanging past it is
// shorter. Its length there is the count_include_pad divisor; the sum runs
// over the window clipped to the image, whose size is the other divisor.
// As aten/src/ATen/native/cpu/AvgPoolKernel.cpp (cpu_avg_pool). Every window
// keeps part of the image (PoolParams::out_size: it starts before the end, and
// padding <= kernel/2), so neither divisor is ever 0. The sum is in double,
// as in adaptive_avgpool2d (PyTorch's is in float: float rounding apart).
#include <algorithm>

#include "lmask/kernels.h"
#include "lmask/ops.h"

namespace lmask {

void kernels::avgpool(float* y, const float* x, const Shape& s, const PoolParams& p, int oh, int ow) {
  const int h = s.h, w = s.w;
  const int planes = s.n * s.c;
#pragma omp parallel for schedule(static)
  for (int pl = 0; pl < planes; ++pl) {
    const float* in = x + static_cast<std::size_t>(pl) * h * w;
    float* out = y + static_cast<std::size_t>(pl) * oh * ow;
    for (int oy = 0; oy < oh; ++oy) {
      const int ys = oy * p.stride - p.padding, ye = std::min(ys + p.kernel, h + p.padding);
      const int y0 = std::max(ys, 0), y1 = std::min(ye, h);
      for (int ox = 0; ox < ow; ++ox) {
        const int xs = ox * p.stride - p.padding, xe = std::min(xs + p.kernel, w + p.padding);
        const int x0 = std::max(xs, 0), x1 = std::min(xe, w);
        const int divisor = p.count_include_pad ? (ye - ys) * (xe - xs) : (y1 - y0) * (x1 - x0);
        double sum = 0.0;
        for (int iy = y0; iy < y1; ++iy)
          for (int ix = x0; ix < x1; ++ix) sum += in[iy * w + ix];
        out[oy * ow + ox] = static_cast<float>(sum / divisor);
      }
    }
  }
}

void avgpool2d(Tensor& y, const Tensor& x, const PoolParams& p) {
  const int oh = p.out_size(x.h()), ow = p.out_size(x.w());
  check_shape(y, {x.n(), x.c(), oh, ow}, "avgpool2d output");
  kernels::avgpool(y.data(), x.data(), x.shape(), p, oh, ow);
}

}  // namespace lmask
