// kernels.h — the loops of the reference ops on raw memory: what the Tensor
// ops of ops.h, masked_ops.h and mask.h run once they have checked their
// shapes, and what the embedded forward (arena_ops.h) runs on pointers into
// its arena. Each formula is written once, here or in the src/ops file
// that defines it next to its Tensor op.
//
// Nothing here checks a shape, allocates or throws: the caller has checked.
// Dimension letters as in tensor.h; masks are float 0/1 planes, 1 = visible.
#pragma once

#include <cstddef>

#include "lmask/mask_rules.h"
#include "lmask/ops.h"

namespace lmask::kernels {

// out [H,W] = 3x3 box sum of in [H,W], zero padding.
inline void box3(float* out, const float* in, int h, int w) {
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) out[y * w + x] = rules::box3_at(in, y, x, h, w);
}

// y [O, n] += bias (may be null), then optionally max(., 0); one pass.
inline void bias_relu(float* y, const float* bias, int channels, std::size_t n, bool relu) {
#pragma omp parallel for schedule(static)
  for (int c = 0; c < channels; ++c) {
    float* row = y + c * n;
    const float b = bias ? bias[c] : 0.f;
    if (relu)
      for (std::size_t i = 0; i < n; ++i) row[i] = row[i] + b > 0.f ? row[i] + b : 0.f;
    else if (bias)
      for (std::size_t i = 0; i < n; ++i) row[i] += b;
  }
}

// How many taps of the k x k window with its first tap at (y0, x0) and
// `dilation` between taps are visible in m [H,W]; taps outside the image
// count as removed (partial convolution's c, before the 1/k^2).
inline float window_visible(const float* m, int h, int w, int y0, int x0, int kernel, int dilation) {
  float visible = 0.f;
  for (int ky = 0; ky < kernel; ++ky)
    for (int kx = 0; kx < kernel; ++kx) {
      const int iy = y0 + ky * dilation, ix = x0 + kx * dilation;
      if (iy >= 0 && iy < h && ix >= 0 && ix < w) visible += m[iy * w + ix];
    }
  return visible;
}

// fill.cpp: the spec's fill on one image, `steps` times (fill_reference of
// masked_ops.h): x [C,H,W] in place, 0 at removed positions; m [H,W].
// scratch: 3*H*W floats.
void fill_image(float* x, const float* m, int channels, int h, int w, int steps, float* scratch);

// activations.cpp: x [count] in place: f(x) elementwise; false (x
// untouched) for a value of Activation it does not know.
bool activate(float* x, std::size_t count, Activation f);

// batchnorm.cpp: x [N,C,H,W] in place: (x - mean) / sqrt(var + eps) * gamma + beta.
void batchnorm(float* x, const Shape& s, const BatchNormParams& bn);

// depthwise.cpp: a depthwise conv (ConvParams::is_depthwise) on one channel:
// y [OH,OW] = the k x k filter [k,k] over plane x [H,W] (padding reads 0) +
// bias, max(., 0) when `relu`; at positions, only y[pixels[j]] (oy*OW + ox),
// the sum times inv_scale[j] when given (partial convolution's 1/c).
void depthwise_plane(float* y, const float* x, const float* filter, float bias, int h, int w, int oh, int ow,
                     const ConvParams& p, bool relu);
void depthwise_at_positions(float* y, const float* x, const float* filter, float bias, int h, int w,
                            int ow, const ConvParams& p, const int* pixels, int count, const float* inv_scale,
                            bool relu);

// elementwise.cpp: y [count] += x [count], then max(., 0) when `relu`.
void add(float* y, const float* x, std::size_t count, bool relu);

// channel_scale.cpp: x [N,C,H,W] in place: x * scale [N,C], broadcast over H, W.
void channel_scale(float* x, const float* scale, const Shape& s);

// pool.cpp, avgpool.cpp: y [N,C,OH,OW] = the pool `p` of x [N,C,H,W], with
// OH, OW = p.out_size(H), p.out_size(W); as maxpool2d and avgpool2d.
void maxpool(float* y, const float* x, const Shape& s, const PoolParams& p, int oh, int ow);
void avgpool(float* y, const float* x, const Shape& s, const PoolParams& p, int oh, int ow);

// pool.cpp: y [N,C,OH,OW] = AdaptiveAvgPool2d((OH,OW)) of x [N,C,H,W].
void adaptive_avgpool(float* y, const float* x, const Shape& s, int oh, int ow);
// y [N,C,S,S] = per bin of those, vismean over the bin of x [N,C,H,W]
// under m [N,1,H,W] (mask_rules.h); S = 1 is the masked global average.
void masked_adaptive_avgpool(float* y, const float* x, const float* m, const Shape& s, int size);

// mask.cpp: out [N,1,OH,OW] = 1 where the k x k window at that output
// (stride, padding, dilation) holds a visible input of m [N,1,H,W]. Taps
// outside the image (padding, and in ceil mode those past the input) are
// not looked at.
void window_any(float* out, const float* m, int n, int h, int w, int oh, int ow, int kernel, int stride,
                int padding, int dilation);
// out [N,1,S,S] = 1 where the adaptive bin (PyTorch's) holds a visible input of m [N,1,H,W].
void bins_any(float* out, const float* m, int n, int h, int w, int size);

}  // namespace lmask::kernels
