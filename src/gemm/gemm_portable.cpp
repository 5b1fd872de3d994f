// gemm_portable.cpp — a blocked SGEMM in plain C++ for the embedded build.
//
// The classic three-level blocking (Goto/BLIS): a KC x NC panel of op(B) and
// an MC x KC block of op(A) are packed into contiguous strips on the stack,
// then an MR x NR micro-kernel accumulates in a small local array that the
// compiler keeps in vector registers (NR = 16 floats: one AVX-512 register,
// two AVX2, four NEON). Transposes cost nothing: packing reads either layout.
// Edges are handled by zero-padding the packed strips.
//
// Not here: threads, heap, intrinsics (the auto-vectorised kernel is within
// reach of hand-written ones on the layers that matter; see README), or any
// special case for tiny products.
#include <algorithm>

#include "lmask/gemm.h"

// Block sizes; override with -D for a small stack (a microcontroller).
// Stack use: (MC + NC) * KC floats (112 KiB with the defaults).
#ifndef LMASK_GEMM_KC
#define LMASK_GEMM_KC 256
#endif
#ifndef LMASK_GEMM_MC
#define LMASK_GEMM_MC 48
#endif
#ifndef LMASK_GEMM_NC
#define LMASK_GEMM_NC 64
#endif

namespace lmask {

namespace {

constexpr int kMR = 6, kNR = 16;  // micro-tile: 6 rows x 16 columns of C
constexpr int kKC = LMASK_GEMM_KC;
constexpr int kMC = (LMASK_GEMM_MC + kMR - 1) / kMR * kMR;
constexpr int kNC = (LMASK_GEMM_NC + kNR - 1) / kNR * kNR;

// Element (i, p) of op(A) and (p, j) of op(B).
inline float a_at(const float* a, int lda, bool t, int i, int p) { return t ? a[p * lda + i] : a[i * lda + p]; }
inline float b_at(const float* b, int ldb, bool t, int p, int j) { return t ? b[j * ldb + p] : b[p * ldb + j]; }

// packed [ceil(mc/MR)][kc][MR]: rows [i0, i0+mc) x columns [p0, p0+kc) of op(A).
void pack_a(float* packed, const float* a, int lda, bool t, int i0, int mc, int p0, int kc) {
  for (int s = 0; s < mc; s += kMR) {
    const int rows = std::min(kMR, mc - s);
    for (int p = 0; p < kc; ++p) {
      float* dst = packed + (s / kMR) * kc * kMR + p * kMR;
      for (int i = 0; i < rows; ++i) dst[i] = a_at(a, lda, t, i0 + s + i, p0 + p);
      for (int i = rows; i < kMR; ++i) dst[i] = 0.f;
    }
  }
}

// packed [ceil(nc/NR)][kc][NR]: rows [p0, p0+kc) x columns [j0, j0+nc) of op(B).
void pack_b(float* packed, const float* b, int ldb, bool t, int p0, int kc, int j0, int nc) {
  for (int s = 0; s < nc; s += kNR) {
    const int cols = std::min(kNR, nc - s);
    for (int p = 0; p < kc; ++p) {
      float* dst = packed + (s / kNR) * kc * kNR + p * kNR;
      if (!t && cols == kNR) {
        const float* src = b + (p0 + p) * ldb + j0 + s;
        for (int j = 0; j < kNR; ++j) dst[j] = src[j];
      } else {
        for (int j = 0; j < cols; ++j) dst[j] = b_at(b, ldb, t, p0 + p, j0 + s + j);
        for (int j = cols; j < kNR; ++j) dst[j] = 0.f;
      }
    }
  }
}

// c [mr, nr] (row stride ldc) += alpha * a_strip [kc][MR] . b_strip [kc][NR].
// The unroll pragmas and __restrict let GCC keep all of acc in registers
// (without them it spills acc to the stack every step: 4.4 vs 61 GFLOP/s
// measured on AVX-512); other compilers ignore the pragmas.
void micro_kernel(int kc, const float* __restrict a_strip, const float* __restrict b_strip, float alpha, float* c,
                  int ldc, int mr, int nr) {
  float acc[kMR][kNR];
  for (int i = 0; i < kMR; ++i)
    for (int j = 0; j < kNR; ++j) acc[i][j] = 0.f;
  for (int p = 0; p < kc; ++p) {
    const float* __restrict a = a_strip + p * kMR;
    const float* __restrict b = b_strip + p * kNR;
#pragma GCC unroll 6
    for (int i = 0; i < kMR; ++i) {
      const float ai = a[i];
#pragma GCC unroll 16
      for (int j = 0; j < kNR; ++j) acc[i][j] += ai * b[j];
    }
  }
  for (int i = 0; i < mr; ++i)
    for (int j = 0; j < nr; ++j) c[i * ldc + j] += alpha * acc[i][j];
}

// C = beta * C, with beta == 0 writing zeros (C may hold NaN, as in BLAS).
void scale_c(float* c, int ldc, int m, int n, float beta) {
  if (beta == 1.f) return;
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) c[i * ldc + j] = beta == 0.f ? 0.f : beta * c[i * ldc + j];
}

}  // namespace

void sgemm_portable(Transpose trans_a, Transpose trans_b, int m, int n, int k, float alpha,
                    const float* a, int lda, const float* b, int ldb, float beta, float* c,
                    int ldc) {
  if (m <= 0 || n <= 0) return;
  scale_c(c, ldc, m, n, beta);
  if (k <= 0 || alpha == 0.f) return;
  const bool ta = trans_a == Transpose::yes, tb = trans_b == Transpose::yes;
  alignas(64) float packed_a[kMC * kKC];
  alignas(64) float packed_b[kKC * kNC];
  for (int j0 = 0; j0 < n; j0 += kNC) {
    const int nc = std::min(kNC, n - j0);
    for (int p0 = 0; p0 < k; p0 += kKC) {
      const int kc = std::min(kKC, k - p0);
      pack_b(packed_b, b, ldb, tb, p0, kc, j0, nc);
      for (int i0 = 0; i0 < m; i0 += kMC) {
        const int mc = std::min(kMC, m - i0);
        pack_a(packed_a, a, lda, ta, i0, mc, p0, kc);
        for (int js = 0; js < nc; js += kNR)
          for (int is = 0; is < mc; is += kMR)
            micro_kernel(kc, packed_a + (is / kMR) * kc * kMR, packed_b + (js / kNR) * kc * kNR, alpha,
                         c + (i0 + is) * ldc + j0 + js, ldc, std::min(kMR, mc - is), std::min(kNR, nc - js));
      }
    }
  }
}

}  // namespace lmask
