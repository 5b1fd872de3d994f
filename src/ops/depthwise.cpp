// depthwise.cpp — a depthwise conv (one k x k filter per channel: groups =
// in = out channels, MobileNetV3's and EfficientNet's) as a direct loop. As
// im2col + GEMM it is one 1 x k^2 product per channel: packing costs more
// than the k^2 multiply-adds per output it does.
//   y[c, oy, ox] = sum_{ky,kx} w[c, ky, kx] * x[c, oy*s - p + ky*d, ox*s - p + kx*d] + b[c]
#include "lmask/kernels.h"

#include <algorithm>

namespace lmask::kernels {

namespace {

// One output of plane x [h,w] under filter [k,k] with its first tap at
// (iy0, ix0); taps outside the plane read 0.
inline float depthwise_at(const float* x, int h, int w, const float* filter, int k, int d, int iy0, int ix0) {
  float s = 0.f;
  for (int ky = 0; ky < k; ++ky) {
    const int iy = iy0 + ky * d;
    if (iy < 0 || iy >= h) continue;
    const float* row = x + static_cast<std::size_t>(iy) * w;
    const float* f = filter + ky * k;
    for (int kx = 0; kx < k; ++kx) {
      const int ix = ix0 + kx * d;
      if (ix >= 0 && ix < w) s += f[kx] * row[ix];
    }
  }
  return s;
}

}  // namespace

void depthwise_plane(float* y, const float* x, const float* filter, float bias, int h, int w, int oh, int ow,
                     const ConvParams& p, bool relu) {
  const int k = p.kernel, s = p.stride, d = p.dilation;
  for (int oy = 0; oy < oh; ++oy) {
    const int iy0 = oy * s - p.padding;
    float* out = y + static_cast<std::size_t>(oy) * ow;
    for (int ox = 0; ox < ow; ++ox) {
      const float v = depthwise_at(x, h, w, filter, k, d, iy0, ox * s - p.padding) + bias;
      out[ox] = relu && v < 0.f ? 0.f : v;
    }
  }
}

void depthwise_at_positions(float* y, const float* x, const float* filter, float bias, int h, int w,
                            int ow, const ConvParams& p, const int* pixels, int count, const float* inv_scale,
                            bool relu) {
  for (int j = 0; j < count; ++j) {
    const int oy = pixels[j] / ow, ox = pixels[j] % ow;
    const float sum = depthwise_at(x, h, w, filter, p.kernel, p.dilation, oy * p.stride - p.padding,
                                   ox * p.stride - p.padding);
    const float v = sum * (inv_scale ? inv_scale[j] : 1.f) + bias;
    y[pixels[j]] = relu && v < 0.f ? 0.f : v;
  }
}

}  // namespace lmask::kernels
