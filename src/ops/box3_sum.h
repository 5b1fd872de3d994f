// box3_sum.h — the fill's 3x3 sum at one position and its denominator
// guard, private to the library; host code (plane_kernels.h, the frontier
// fill) and the CUDA fill kernel (src/backend/cuda/mask_kernels.cu) share it.
#pragma once

// box3_at runs on the GPU too when nvcc compiles the includer.
#ifdef __CUDACC__
#define LMASK_HOST_DEVICE __host__ __device__
#else
#define LMASK_HOST_DEVICE
#endif

namespace lmask::kernels {

constexpr float kFillEps = 1e-5f;  // the fill's denominator guard (the spec's 1e-5)

// The 3x3 sum around (y, x) of v [H,W], zero padding, rows then columns from
// -1 to 1: one order everywhere, so every fill sums the same values alike.
LMASK_HOST_DEVICE inline float box3_at(const float* v, int y, int x, int h, int w) {
  float s = 0.f;
  for (int dy = -1; dy <= 1; ++dy) {
    const int yy = y + dy;
    if (yy < 0 || yy >= h) continue;
    for (int dx = -1; dx <= 1; ++dx) {
      const int xx = x + dx;
      if (xx >= 0 && xx < w) s += v[yy * w + xx];
    }
  }
  return s;
}

}  // namespace lmask::kernels
