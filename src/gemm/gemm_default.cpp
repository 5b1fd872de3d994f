// gemm_default.cpp — in the embedded build (-DLMASK_EMBEDDED=ON) lmask::sgemm
// is the portable blocked SGEMM; the normal build links gemm_blas.cpp instead (CMakeLists.txt picks).
#include "lmask/gemm.h"

namespace lmask {

void sgemm(Transpose trans_a, Transpose trans_b, int m, int n, int k, float alpha,
           const float* a, int lda, const float* b, int ldb, float beta, float* c, int ldc) {
  sgemm_portable(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace lmask
