// plane_kernels.h — two loops shared by the reference ops and the embedded
// arena ops (src/embedded/arena_ops.cpp), private to the library: the 3x3
// box sum of the fill over a plane (mask_rules.h has it at one point) and the
// bias + ReLU pass after a conv's GEMM.
#pragma once

#include <cstddef>

#include "lmask/mask_rules.h"

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

}  // namespace lmask::kernels
