// gemm_blas.cpp — lmask::sgemm on OpenBLAS (the normal build). Not used by
// the embedded build, which links gemm_default.cpp instead.
#include <cblas.h>

#include "lmask/gemm.h"

namespace lmask {

void sgemm(Transpose trans_a, Transpose trans_b, int m, int n, int k, float alpha,
           const float* a, int lda, const float* b, int ldb, float beta, float* c, int ldc) {
  cblas_sgemm(CblasRowMajor, trans_a == Transpose::yes ? CblasTrans : CblasNoTrans,
              trans_b == Transpose::yes ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b,
              ldb, beta, c, ldc);
}

}  // namespace lmask
