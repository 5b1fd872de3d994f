// conv2d.cpp — convolution as im2col + SGEMM, per image and group:
//   m = O/groups; k = (I/groups)*K*K; n = OH*OW; Y_g[m,n] = W_g[m,k] . cols[k,n]
#include "lmask/gemm.h"

#include <numeric>
#include <stdexcept>
#include <vector>

#include "lmask/kernels.h"
#include "lmask/masked_ops.h"
#include "lmask/ops.h"

namespace lmask {

namespace {

// Below this many output positions per image, per-image GEMMs are too thin
// (layer4 of a 64-px input has 4 columns): packing the weights costs more
// than the arithmetic. The active-region conv at every position makes one
// GEMM over the whole batch's columns instead.
constexpr int kBatchedColumnsBelow = 1024;

}  // namespace

void conv2d(Tensor& y, const Tensor& x, const Tensor& weight, const Tensor& bias,
            const ConvParams& p, Workspace& ws, bool relu) {
  if (x.c() != p.in_channels) throw std::invalid_argument("conv2d: input channels mismatch");
  check_shape(weight, p.weight_shape(), "conv2d weight");
  check_shape(y, p.out_shape(x.shape()), "conv2d output");
  if (!bias.empty()) check_shape(bias, {1, p.out_channels, 1, 1}, "conv2d bias");

  const int m = p.out_channels / p.groups, k = p.col_rows();
  const int n = y.h() * y.w();
  if (p.is_depthwise()) {  // a direct loop per channel (depthwise.cpp)
    const int planes = x.n() * p.in_channels;
#pragma omp parallel for schedule(static)
    for (int i = 0; i < planes; ++i) {
      const int c = i % p.in_channels;
      kernels::depthwise_plane(y.data() + static_cast<std::size_t>(i) * n,
                               x.data() + static_cast<std::size_t>(i) * x.h() * x.w(),
                               weight.data() + static_cast<std::size_t>(c) * p.kernel * p.kernel,
                               bias.empty() ? 0.f : bias.data()[c], x.h(), x.w(), y.h(), y.w(), p, relu);
    }
    return;
  }
  if (x.n() > 1 && n < kBatchedColumnsBelow) {
    std::vector<int> every_position(static_cast<std::size_t>(x.n()) * n);
    std::iota(every_position.begin(), every_position.end(), 0);
    conv2d_at(y, x, weight, bias, p, every_position, ws, relu);
    return;
  }
  const float* w = weight.data();
  float* cols = p.is_pointwise() ? nullptr : ws.columns(static_cast<std::size_t>(k) * n);
  for (int img = 0; img < x.n(); ++img) {
    for (int g = 0; g < p.groups; ++g) {
      const float* b_operand;
      if (p.is_pointwise()) {
        b_operand = x.image(img) + static_cast<std::size_t>(g) * k * n;
      } else {
        im2col(cols, x.image(img), x.h(), x.w(), g * k / (p.kernel * p.kernel), p);
        b_operand = cols;
      }
      ws.gemm(Transpose::no, Transpose::no, m, n, k, 1.f,
                  w + static_cast<std::size_t>(g) * m * k, k, b_operand, n, 0.f,
                  y.image(img) + static_cast<std::size_t>(g) * m * n, n);
    }
    kernels::bias_relu(y.image(img), bias.empty() ? nullptr : bias.data(), p.out_channels, n, relu);
  }
}

}  // namespace lmask
