// cuda_conv.h — one convolution on the GPU, dense or at listed outputs only
// (private to the CUDA backend): darknet's three lines, on cuBLAS.
//   dense:  cols = im2col(x) (a 1x1/stride-1 conv reads x itself);
//           y_i [O,P] = W [O,K] . cols_i [K,P] for each image i (one strided-batched SGEMM);
//           y = act(y * inv + bias + residual)
//   active: cols [K,count] = the windows of the listed outputs only;
//           Yc [O,count] = W . cols; y = 0, then y[positions] = act(Yc * inv + bias)
// Groups run as one product per group, except a depthwise conv (groups =
// in_channels > 1), which is a direct kernel (depthwise_kernels.cu) and
// needs no columns. The workspace holds the columns; conv_workspace_floats
// says how much a layer wants (never more than `cap`).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstddef>

#include "kernels.h"
#include "lmask/ops.h"

namespace lmask::backends::cuda {

struct DeviceConv {
  ConvParams p;
  const float* weight = nullptr;  // [O, I/groups, K, K] on the device
  const float* bias = nullptr;    // [O] or nullptr
};

struct ConvContext {
  cublasHandle_t blas;
  cudaStream_t stream;
  float* work;               // columns workspace
  std::size_t work_floats;   // its size
};

// Floats of workspace the layer uses at these planes: the columns of as many
// images (dense) or positions (active) as fit in `cap`, at least one image's.
std::size_t conv_workspace_floats(const ConvParams& p, const Planes& s, std::size_t cap);

// y [N,O,OH,OW] = conv(x [N,I,H,W]) then the epilogue above; residual and
// inv_scale ([N*OH*OW]) may be nullptr.
void conv_dense(const ConvContext& ctx, const DeviceConv& conv, const Planes& s, const float* x,
                float* y, const float* residual, const float* inv_scale, PostActivation act);

// The same outputs at positions[0..count) (device, ascending), every other
// output 0. inv_scale ([count]) may be nullptr.
void conv_active(const ConvContext& ctx, const DeviceConv& conv, const Planes& s, const float* x,
                 float* y, const int* positions, int count, const float* inv_scale, PostActivation act);

// Whether the conv runs as the direct depthwise kernel.
inline bool is_depthwise(const ConvParams& p) { return p.groups > 1 && p.groups == p.in_channels; }

}  // namespace lmask::backends::cuda
