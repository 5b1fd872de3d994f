// cuda_conv.cpp — the convolution's cuBLAS calls, chunked to the workspace.
//
// cuBLAS is column-major: a row-major [r,c] matrix is a column-major [c,r]
// one with the same leading dimension, so the row-major product
// Y [m,P] = W [m,K] . X [K,P] is issued as the column-major Y^T = X^T . W^T:
// sgemm(N, N, P, m, K, X (ld P), W (ld K), Y (ld P)).
#include "cuda_conv.h"

#include <algorithm>
#include <stdexcept>

#include "cuda_error.h"

namespace lmask::backends::cuda {

namespace {

constexpr float kOne = 1.f, kZero = 0.f;

std::size_t rows(const ConvParams& p) { return std::size_t(p.col_rows()); }

}  // namespace

std::size_t conv_workspace_floats(const ConvParams& p, const Planes& s, std::size_t cap) {
  if (is_depthwise(p)) return 0;
  const std::size_t k = rows(p), m = std::size_t(p.out_channels / p.groups);
  const std::size_t plane = std::size_t(s.oh) * s.ow, outputs = std::size_t(s.n) * plane;
  // Dense: whole images of columns; active: (K + m) floats per listed output.
  const std::size_t dense = p.is_pointwise() ? 0 : k * plane * std::max<std::size_t>(1, std::min<std::size_t>(s.n, cap / (k * plane)));
  const std::size_t active = (k + m) * std::max<std::size_t>(1, std::min(outputs, cap / (k + m)));
  return std::max(dense, active);
}

void conv_dense(const ConvContext& ctx, const DeviceConv& conv, const Planes& s, const float* x,
                float* y, const float* residual, const float* inv_scale, PostActivation act) {
  const ConvParams& p = conv.p;
  if (is_depthwise(p))
    return depthwise_conv(y, x, conv.weight, conv.bias, residual, inv_scale, s, p, act, ctx.stream);
  const int m = p.out_channels / p.groups, k = p.col_rows(), cg = p.in_channels / p.groups;
  const long long plane = (long long)s.oh * s.ow, in_plane = (long long)s.h * s.w;
  const int images_per_chunk =
      p.is_pointwise() ? s.n : int(std::max<std::size_t>(1, std::min<std::size_t>(s.n, ctx.work_floats / (std::size_t(k) * plane))));
  if (!p.is_pointwise() && std::size_t(k) * plane > ctx.work_floats)
    throw std::logic_error("cuda conv: workspace smaller than one image's columns");
  for (int g = 0; g < p.groups; ++g) {
    const float* w = conv.weight + std::size_t(g) * m * k;
    for (int i0 = 0; i0 < s.n; i0 += images_per_chunk) {
      const int images = std::min(images_per_chunk, s.n - i0);
      const float* cols;
      long long stride_cols;
      if (p.is_pointwise()) {  // the input planes already are the columns
        cols = x + (std::size_t(i0) * p.in_channels + std::size_t(g) * cg) * in_plane;
        stride_cols = (long long)p.in_channels * in_plane;
      } else {
        im2col(ctx.work, x + std::size_t(i0) * p.in_channels * in_plane, images, p.in_channels, g * cg, s, p,
               ctx.stream);
        cols = ctx.work;
        stride_cols = (long long)k * plane;
      }
      float* out = y + (std::size_t(i0) * p.out_channels + std::size_t(g) * m) * plane;
      check(cublasSgemmStridedBatched(ctx.blas, CUBLAS_OP_N, CUBLAS_OP_N, int(plane), m, k, &kOne, cols,
                                      int(plane), stride_cols, w, k, 0, &kZero, out, int(plane),
                                      (long long)p.out_channels * plane, images),
            "cublasSgemmStridedBatched (conv)");
    }
  }
  conv_epilogue(y, conv.bias, residual, inv_scale, s.n, p.out_channels, int(plane), act, ctx.stream);
}

void conv_active(const ConvContext& ctx, const DeviceConv& conv, const Planes& s, const float* x,
                 float* y, const int* positions, int count, const float* inv_scale, PostActivation act) {
  const ConvParams& p = conv.p;
  const int m = p.out_channels / p.groups, k = p.col_rows(), cg = p.in_channels / p.groups;
  const int plane = s.oh * s.ow;
  check(cudaMemsetAsync(y, 0, std::size_t(s.n) * p.out_channels * plane * sizeof(float), ctx.stream),
        "cudaMemsetAsync (conv output)");
  if (is_depthwise(p))
    return depthwise_conv_at(y, x, conv.weight, conv.bias, positions, count, inv_scale, s, p, act, ctx.stream);
  const int chunk = int(std::min<std::size_t>(std::max(count, 1), ctx.work_floats / std::size_t(k + m)));
  if (chunk < 1) throw std::logic_error("cuda conv: workspace smaller than one output's column");
  for (int start = 0; start < count; start += chunk) {
    const int n = std::min(chunk, count - start);
    float* cols = ctx.work;                         // [k, n]
    float* result = ctx.work + std::size_t(k) * n;  // [m, n]
    for (int g = 0; g < p.groups; ++g) {
      gather_columns(cols, x, positions + start, n, p.in_channels, g * cg, s, p, ctx.stream);
      check(cublasSgemm(ctx.blas, CUBLAS_OP_N, CUBLAS_OP_N, n, m, k, &kOne, cols, n,
                        conv.weight + std::size_t(g) * m * k, k, &kZero, result, n),
            "cublasSgemm (active conv)");
      conv_scatter(y, result, positions + start, n, m, g * m, p.out_channels, plane,
                   conv.bias, inv_scale ? inv_scale + start : nullptr, act, ctx.stream);
    }
  }
}

}  // namespace lmask::backends::cuda
