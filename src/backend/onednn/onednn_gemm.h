// onednn_gemm.h — lmask::sgemm's contract (gemm.h) on oneDNN's own SGEMM,
// for the layer-masked forward on this backend: its active-region convs are
// GEMMs over gathered columns, and oneDNN's kernels run those shapes faster
// than OpenBLAS on the machines measured (README "Backends").
#pragma once

#include "lmask/gemm.h"

namespace lmask::backends::onednn {

void onednn_sgemm(Transpose trans_a, Transpose trans_b, int m, int n, int k, float alpha,
                  const float* a, int lda, const float* b, int ldb, float beta, float* c, int ldc);

}  // namespace lmask::backends::onednn
