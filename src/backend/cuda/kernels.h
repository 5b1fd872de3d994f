// kernels.h — the CUDA backend's device kernels, as host functions that
// launch them on a stream (private to the CUDA backend). All pointers are
// device pointers; every activation is NCHW float32 and every mask [N,1,H,W]
// float 0/1 (1 = visible), as in the native backend. Positions are flat
// n*OH*OW + oy*OW + ox indices of output planes, ascending.
// The matrix products themselves are cuBLAS calls (cuda_conv.cpp).
// Each launcher checks its launch and throws on error; none synchronises.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

#include "lmask/ops.h"

namespace lmask::backends::cuda {

// Input and output plane sizes of a window op.
struct Planes {
  int n, h, w;    // input: batch, height, width
  int oh, ow;     // output
};

// ---- convolution (conv_kernels.cu) ----------------------------------------

// cols: per image i of `images`, [(C/g)*K*K, OH*OW] at cols + i*rows*OH*OW,
// for channels [c0, c0 + C/g) of x [images,C,H,W]; padding reads 0.
void im2col(float* cols, const float* x, int images, int channels, int c0, const Planes& s,
            const ConvParams& p, cudaStream_t stream);

// cols [(C/g)*K*K, count]: column j holds the window of output positions[j]
// for channels [c0, c0 + C/g) of x [N,C,H,W]; padding reads 0.
void gather_columns(float* cols, const float* x, const int* positions, int count, int channels,
                    int c0, const Planes& s, const ConvParams& p, cudaStream_t stream);

// y [N,O,P] in place: y = y * inv_scale[n*P + pix] (if given) + bias[o] (if
// given) + residual[same index] (if given), then max(0, .) if relu.
void conv_epilogue(float* y, const float* bias, const float* residual, const float* inv_scale,
                   int n, int o, int plane, bool relu, cudaStream_t stream);

// y[n, oc0 + o, pix] = yc[o, j] * inv_scale[j] (if given) + bias[oc0 + o]
// (if given), relu'd if asked, for positions[j] = n*plane + pix; yc [m, count].
void conv_scatter(float* y, const float* yc, const int* positions, int count, int m, int oc0,
                  int out_channels, int plane, const float* bias, const float* inv_scale, bool relu,
                  cudaStream_t stream);

// ---- layer masking (mask_kernels.cu) ---------------------------------------

// out [N,1,OH,OW] = max of in [N,1,H,W] over each window (kernel, stride,
// padding, dilation); padding never wins: visible iff the window holds a
// visible input.
void pool_mask(float* out, const float* in, const Planes& s, int kernel, int stride, int padding,
               int dilation, cudaStream_t stream);

// out = a * b elementwise (count values): the residual join's mask.
void mask_product(float* out, const float* a, const float* b, std::size_t count, cudaStream_t stream);

// x [N,C,P] *= m [N,1,P], broadcast over channels.
void apply_mask(float* x, const float* m, int n, int c, int plane, cudaStream_t stream);

// One step of the spec's fill, from (x_in, r_in) to (x_out, r_out), x [N,C,H,W],
// r [N,1,H,W] (r starts as the mask; unknown positions of x hold 0):
//   den = box3(r); x_out = r ? x_in : box3(x_in) / (den + 1e-5); r_out = min(r + den, 1)
// box3 a 3x3 sum with zero padding, summed in the reference's order.
void fill_step(float* x_out, float* r_out, const float* x_in, const float* r_in, int n, int c,
               int h, int w, cudaStream_t stream);

// Bytes of scratch visible_positions needs for masks of up to `count` values.
std::size_t visible_positions_scratch(std::size_t count);
// positions = flat indices of the non-zero values of m (count values), in
// order; *visible (device) = how many. Ordered stream compaction (CUB).
void visible_positions(int* positions, int* visible, const float* m, std::size_t count,
                       void* scratch, std::size_t scratch_bytes, cudaStream_t stream);

// Partial convolution's divisor: inv[j] = 1 / (visible inputs in the window
// of output j / (K*K) + 1e-8) for the listed positions, or for every output
// n*OH*OW + pix when positions is nullptr (count = N*OH*OW then).
void renorm_scale(float* inv, const float* m, const int* positions, int count, const Planes& s,
                  const ConvParams& p, cudaStream_t stream);

// The bottleneck residual rule in place: y [N,C,P] = f((y + identity) * m) * m,
// f = relu or the identity, m [N,1,P] = mo * mi.
void residual_join(float* y, const float* identity, const float* m, int n, int c, int plane,
                   bool relu, cudaStream_t stream);

// ---- pooling and the fc bias (pool_kernels.cu) -----------------------------

// y [N,C,OH,OW] = max over kernel x kernel windows of x [N,C,H,W], padding
// never wins; then * m_out [N,1,OH,OW] when given (the MaxPool2d mask rule).
void maxpool(float* y, const float* x, int c, const Planes& s, int kernel, int stride, int padding,
             const float* m_out, cudaStream_t stream);

// y [N,C] = mean over the plane of x [N,C,P]; with a mask m [N,1,P], the
// spec's mean_hw(x * m) / (mean_hw(m) + 1e-8). Accumulates in double, as
// the native ops do.
void avgpool(float* y, const float* x, const float* m, int n, int c, int plane, cudaStream_t stream);

// y [N,O] += bias [O].
void add_bias(float* y, const float* bias, int n, int o, cudaStream_t stream);

}  // namespace lmask::backends::cuda
