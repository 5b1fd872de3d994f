// gemm.h — the one matrix product the core needs, behind one function.
//
// Row-major SGEMM with the BLAS argument order:
//   C [m,n] = alpha * op(A) [m,k] . op(B) [k,n] + beta * C
// op(X) is X or its transpose; lda/ldb/ldc are row strides in floats. With
// beta == 0, C is only written (it may hold NaN beforehand), as in BLAS.
//
// Two implementations, picked by the build (CMakeLists.txt), never by #if:
//   src/gemm/gemm_blas.cpp      `sgemm` = OpenBLAS cblas_sgemm (the normal build)
//   src/gemm/gemm_default.cpp   `sgemm` = sgemm_portable (-DLMASK_EMBEDDED=ON)
// sgemm_portable (src/gemm/gemm_portable.cpp) is in every build, so the normal
// test suite checks it against a plain triple loop.
#pragma once

namespace lmask {

enum class Transpose { no, yes };

void sgemm(Transpose trans_a, Transpose trans_b, int m, int n, int k, float alpha,
           const float* a, int lda, const float* b, int ldb, float beta, float* c, int ldc);

// Plain C++ blocked SGEMM: no library, no threads, no heap (its packing
// buffers live on the stack, about 100 KiB with the default block sizes).
void sgemm_portable(Transpose trans_a, Transpose trans_b, int m, int n, int k, float alpha,
                    const float* a, int lda, const float* b, int ldb, float beta, float* c,
                    int ldc);

}  // namespace lmask
