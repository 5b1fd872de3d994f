// onednn_gemm.cpp — see onednn_gemm.h. dnnl_sgemm takes row-major operands
// and BLAS's argument order, so this is a translation of the flags only.
#include "onednn_gemm.h"

#include <stdexcept>
#include <string>

#include <dnnl.h>

namespace lmask::backends::onednn {

void onednn_sgemm(Transpose trans_a, Transpose trans_b, int m, int n, int k, float alpha,
                  const float* a, int lda, const float* b, int ldb, float beta, float* c, int ldc) {
  const dnnl_status_t status =
      dnnl_sgemm(trans_a == Transpose::yes ? 'T' : 'N', trans_b == Transpose::yes ? 'T' : 'N', m, n, k,
                 alpha, a, lda, b, ldb, beta, c, ldc);
  // Only malformed sizes fail, which is a bug in the caller.
  if (status != dnnl_success)
    throw std::logic_error("onednn: dnnl_sgemm refused m=" + std::to_string(m) + " n=" + std::to_string(n) +
                           " k=" + std::to_string(k) + " (status " + std::to_string(int(status)) + ")");
}

}  // namespace lmask::backends::onednn
