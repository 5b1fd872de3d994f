// gemm_blas.cpp — lmask::sgemm on OpenBLAS (the normal build). Not used by
// the embedded build, which links gemm_default.cpp instead.
//
// Reproducible with any number of threads. OpenBLAS's SGEMM is not: on AMD
// Zen 3 with Debian's OpenBLAS 0.3.21, one call with 2 threads rounds
// differently from the same call with 1, and even a single-threaded call over
// half of C's columns differs from one over all of them (its kernels sum in
// an order that depends on the shape they are given). The studies promise
// byte-identical results with 1 or 2 threads, so C is cut into tiles that
// depend on the shape alone, each tile is one single-threaded OpenBLAS call,
// and threads share out whole tiles: a tile's bits cannot depend on which
// thread, or how many, computed it.
#include <cblas.h>

#include <algorithm>
#include <cstddef>

#include "lmask/gemm.h"

namespace lmask {

namespace {

// Large enough that re-packing A (for each column tile) or B (for each row
// tile) is a small share of a tile's m*n*k work.
constexpr int kTileRows = 256;
constexpr int kTileCols = 512;

}  // namespace

void sgemm(Transpose trans_a, Transpose trans_b, int m, int n, int k, float alpha,
           const float* a, int lda, const float* b, int ldb, float beta, float* c, int ldc) {
  const bool ta = trans_a == Transpose::yes, tb = trans_b == Transpose::yes;
  const int row_tiles = (m + kTileRows - 1) / kTileRows, col_tiles = (n + kTileCols - 1) / kTileCols;
  const int tiles = row_tiles * col_tiles;
  // Always inside a parallel region, even for one tile: OpenBLAS's OpenMP
  // build runs single-threaded when called from an active region, and with
  // one thread in all there is only one way to run anyway.
#pragma omp parallel for schedule(dynamic)
  for (int t = 0; t < tiles; ++t) {
    const int i0 = (t / col_tiles) * kTileRows, j0 = (t % col_tiles) * kTileCols;
    const int rows = std::min(kTileRows, m - i0), cols = std::min(kTileCols, n - j0);
    // op(A) rows i0.. and op(B) columns j0.., wherever the layout puts them.
    const float* a_tile = a + (ta ? std::size_t(i0) : std::size_t(i0) * lda);
    const float* b_tile = b + (tb ? std::size_t(j0) * ldb : std::size_t(j0));
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, rows, cols, k,
                alpha, a_tile, lda, b_tile, ldb, beta, c + std::size_t(i0) * ldc + j0, ldc);
  }
}

}  // namespace lmask
