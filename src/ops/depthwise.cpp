// depthwise.cpp — a depthwise conv (one k x k filter per channel: groups =
// in = out channels, MobileNetV3's and EfficientNet's) as a direct loop. As
// im2col + GEMM it is one 1 x k^2 product per channel: packing costs more
// than the k^2 multiply-adds per output it does.
//   y[c, oy, ox] = sum_{ky,kx} w[c, ky, kx] * x[c, oy*s - p + ky*d, ox*s - p + kx*d] + b[c]
//
// Outputs are made a row run at a time (a whole row, or the visible
// outputs of one row under a mask); where no tap reads padding, blocks of
// outputs sum all taps in registers, which the compiler vectorises. Each
// output sums its taps in (ky, kx) order either way.
#include "lmask/kernels.h"

#include <algorithm>

namespace lmask::kernels {

namespace {

// Outputs per pass of depthwise_plane/_at_positions: the run's sums stay in L1.
constexpr int kChunk = 256;
// Outputs whose sums one block keeps in registers.
constexpr int kBlock = 8;

// The sum for output (oy, ox), every tap checked against the plane x
// [h,w]: taps outside read 0.
inline float sum_at(const float* x, int h, int w, const float* filter, const ConvParams& p, int oy, int ox) {
  const int k = p.kernel, d = p.dilation, iy0 = oy * p.stride - p.padding, ix0 = ox * p.stride - p.padding;
  float s = 0.f;
  for (int ky = 0; ky < k; ++ky) {
    const int iy = iy0 + ky * d;
    if (iy < 0 || iy >= h) continue;
    const float* row = x + static_cast<std::size_t>(iy) * w;
    for (int kx = 0; kx < k; ++kx) {
      const int ix = ix0 + kx * d;
      if (ix >= 0 && ix < w) s += filter[ky * k + kx] * row[ix];
    }
  }
  return s;
}

// acc[t] = the sum for output (oy, x0 + t), t in [0, len), for outputs no
// tap of which reads left or right of the row (rows above and below are
// still checked), nor do those of outputs up to x0 + room: blocks of kBlock
// outputs keep their sums in registers over all taps (a block past the
// run's end is computed whole where there is room, and only its run's part
// stored: a short run still vectorises); the stride S is fixed so the loads
// vectorise.
template <int S>
void interior_sums(float* acc, const float* x, int h, int w, const float* filter, const ConvParams& p, int oy,
                   int x0, int len, int room) {
  const int k = p.kernel, d = p.dilation;
  const int iy0 = oy * S - p.padding, ix0 = x0 * S - p.padding;
  int t0 = 0;
  for (; t0 < len && t0 + kBlock <= room; t0 += kBlock) {
    float v[kBlock] = {};
    for (int ky = 0; ky < k; ++ky) {
      const int iy = iy0 + ky * d;
      if (iy < 0 || iy >= h) continue;
      const float* src = x + static_cast<std::size_t>(iy) * w + ix0 + t0 * S;
      for (int kx = 0; kx < k; ++kx) {
        const float f = filter[ky * k + kx];
        for (int t = 0; t < kBlock; ++t) v[t] += f * src[kx * d + t * S];
      }
    }
    for (int t = 0; t < std::min(kBlock, len - t0); ++t) acc[t0 + t] = v[t];
  }
  for (; t0 < len; ++t0) acc[t0] = sum_at(x, h, w, filter, p, oy, x0 + t0);
}

// acc[t] = the sum for output (oy, x0 + t), t in [0, len).
void row_sums(float* acc, const float* x, int h, int w, const float* filter, const ConvParams& p, int oy, int x0,
              int len) {
  const int s = p.stride, pad = p.padding;
  // The row's interior [a, b): ox*s - pad >= 0 and ox*s - pad + (k-1)*d < w;
  // relative to x0, its part in the run is [a, min(b, len)).
  const int last_start = w - 1 - (p.kernel - 1) * p.dilation + pad;  // the largest ox*s allowed
  const int a = std::clamp((pad + s - 1) / s - x0, 0, len);
  // Strides past 2 (no net here has one) take the checked sum throughout.
  const int b = s <= 2 ? std::max((last_start < 0 ? 0 : last_start / s + 1) - x0, a) : a;
  const int end = std::min(b, len);
  for (int t = 0; t < a; ++t) acc[t] = sum_at(x, h, w, filter, p, oy, x0 + t);
  if (s == 1) interior_sums<1>(acc + a, x, h, w, filter, p, oy, x0 + a, end - a, b - a);
  if (s == 2) interior_sums<2>(acc + a, x, h, w, filter, p, oy, x0 + a, end - a, b - a);
  for (int t = end; t < len; ++t) acc[t] = sum_at(x, h, w, filter, p, oy, x0 + t);
}

inline float finish(float sum, float scale, float bias, bool relu) {
  const float v = sum * scale + bias;
  return relu && v < 0.f ? 0.f : v;
}

}  // namespace

void depthwise_plane(float* y, const float* x, const float* filter, float bias, int h, int w, int oh, int ow,
                     const ConvParams& p, bool relu) {
  float acc[kChunk];
  for (int oy = 0; oy < oh; ++oy) {
    float* out = y + static_cast<std::size_t>(oy) * ow;
    for (int x0 = 0; x0 < ow; x0 += kChunk) {
      const int len = std::min(kChunk, ow - x0);
      row_sums(acc, x, h, w, filter, p, oy, x0, len);
      for (int t = 0; t < len; ++t) out[x0 + t] = finish(acc[t], 1.f, bias, relu);
    }
  }
}

void depthwise_at_positions(float* y, const float* x, const float* filter, float bias, int h, int w,
                            int ow, const ConvParams& p, const int* pixels, int count, const float* inv_scale,
                            bool relu) {
  float acc[kChunk];
  for (int j = 0; j < count;) {
    // The run: consecutive pixels of one row from pixels[j], at most kChunk.
    const int oy = pixels[j] / ow, x0 = pixels[j] % ow;
    int len = 1;
    while (j + len < count && len < kChunk && x0 + len < ow && pixels[j + len] == pixels[j] + len) ++len;
    row_sums(acc, x, h, w, filter, p, oy, x0, len);
    for (int t = 0; t < len; ++t) y[pixels[j] + t] = finish(acc[t], inv_scale ? inv_scale[j + t] : 1.f, bias, relu);
    j += len;
  }
}

}  // namespace lmask::kernels
