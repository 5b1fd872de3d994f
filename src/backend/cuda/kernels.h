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

// What a kernel applies to a value last: nothing, or one activation of
// ops.h (a conv's fused epilogue; the masked forward asks a conv for relu
// or nothing and runs the others as their own step, masked_forward.h).
struct PostActivation {
  bool on = false;
  Activation f = Activation::relu;
};
inline PostActivation relu_if(bool relu) { return {relu, Activation::relu}; }

// ---- convolution (conv_kernels.cu, depthwise_kernels.cu) -------------------

// cols: per image i of `images`, [(C/g)*K*K, OH*OW] at cols + i*rows*OH*OW,
// for channels [c0, c0 + C/g) of x [images,C,H,W]; padding reads 0.
void im2col(float* cols, const float* x, int images, int channels, int c0, const Planes& s,
            const ConvParams& p, cudaStream_t stream);

// cols [(C/g)*K*K, count]: column j holds the window of output positions[j]
// for channels [c0, c0 + C/g) of x [N,C,H,W]; padding reads 0.
void gather_columns(float* cols, const float* x, const int* positions, int count, int channels,
                    int c0, const Planes& s, const ConvParams& p, cudaStream_t stream);

// y [N,O,P] in place: y = y * inv_scale[n*P + pix] (if given) + bias[o] (if
// given) + residual[same index] (if given), then `act`.
void conv_epilogue(float* y, const float* bias, const float* residual, const float* inv_scale,
                   int n, int o, int plane, PostActivation act, cudaStream_t stream);

// y[n, oc0 + o, pix] = act(yc[o, j] * inv_scale[j] (if given) + bias[oc0 + o]
// (if given)) for positions[j] = n*plane + pix; yc [m, count].
void conv_scatter(float* y, const float* yc, const int* positions, int count, int m, int oc0,
                  int out_channels, int plane, const float* bias, const float* inv_scale,
                  PostActivation act, cudaStream_t stream);

// A depthwise conv (groups = in_channels > 1, out_channels a multiple of
// it: output channel o reads input channel o / (O/I)) computed directly,
// one thread per output, with conv_epilogue's epilogue fused:
// y [N,O,OH,OW] = act(conv(x) * inv_scale + bias + residual); weight
// [O,1,K,K]; bias, residual and inv_scale ([N*OH*OW]) may be nullptr.
// A GEMM per group would be one tiny product per channel.
void depthwise_conv(float* y, const float* x, const float* weight, const float* bias, const float* residual,
                    const float* inv_scale, const Planes& s, const ConvParams& p, PostActivation act,
                    cudaStream_t stream);
// The same at positions[0..count) only (inv_scale [count] then), every
// other output left as it is (conv_active has zeroed them).
void depthwise_conv_at(float* y, const float* x, const float* weight, const float* bias, const int* positions,
                       int count, const float* inv_scale, const Planes& s, const ConvParams& p,
                       PostActivation act, cudaStream_t stream);

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

// adaptive_avgpool's mask: out [N,1,S,S] = 1 where the bin (PyTorch's,
// ops.h adaptive_bin_*) holds a visible input of m [N,1,H,W].
void bins_mask(float* out, const float* m, int n, int h, int w, int size, cudaStream_t stream);

// concat's strict majority, in two steps on out [count]: zero it, then
// count_visible once per input (out += (m != 0)), then majority_of(n).
void count_visible(float* out, const float* m, std::size_t count, cudaStream_t stream);
void majority_of(float* out, int inputs, std::size_t count, cudaStream_t stream);

// ---- pointwise ops (pointwise_kernels.cu) ----------------------------------

// x [count] in place: f(x) (activation_math.h, PyTorch's formulas).
void activate(float* x, std::size_t count, Activation f, cudaStream_t stream);

// x [N,C,P] in place: x * scale[c] + shift[c], BatchNorm's affine form
// (scale = gamma / sqrt(var + eps), shift = beta - mean * scale, made on
// the host as the native kernel makes them).
void batchnorm(float* x, const float* scale, const float* shift, int n, int c, int plane,
               cudaStream_t stream);

// x [N,C,P] in place: x * s[n*C + c], s [N,C,1,1] (squeeze-excitation).
void channel_scale(float* x, const float* s, int n, int c, int plane, cudaStream_t stream);

// ---- windowed and adaptive average pooling (avgpool_kernels.cu) ------------

// y [N,C,OH,OW] = PyTorch AvgPool2d(p) of x [N,C,H,W] (ceil_mode,
// count_include_pad; kernels::avgpool's loop, summed in double), then
// * m_out [N,1,OH,OW] when given (the AvgPool2d mask rule).
void avgpool_window(float* y, const float* x, int c, const Planes& s, const PoolParams& p, const float* m_out,
                    cudaStream_t stream);

// y [N,C,S,S] = per adaptive bin of x [N,C,H,W], its mean, or with a mask
// m [N,1,H,W] its vismean (mask_rules.h), in double as kernels::
// adaptive_avgpool and kernels::masked_adaptive_avgpool.
void adaptive_avgpool(float* y, const float* x, const float* m, int n, int c, int h, int w, int size,
                      cudaStream_t stream);

// ---- pooling and the fc bias (pool_kernels.cu) -----------------------------

// y [N,C,OH,OW] = max over kernel x kernel windows of x [N,C,H,W], padding
// (and in ceil mode the positions past the input: OH, OW say which) never
// wins; then * m_out [N,1,OH,OW] when given (the MaxPool2d mask rule).
void maxpool(float* y, const float* x, int c, const Planes& s, int kernel, int stride, int padding,
             const float* m_out, cudaStream_t stream);

// y [N,C] = mean over the plane of x [N,C,P]; with a mask m [N,1,P], the
// spec's mean_hw(x * m) / (mean_hw(m) + 1e-8). Accumulates in double, as
// the native ops do.
void avgpool(float* y, const float* x, const float* m, int n, int c, int plane, cudaStream_t stream);

// y [N,O] += bias [O].
void add_bias(float* y, const float* bias, int n, int o, cudaStream_t stream);

}  // namespace lmask::backends::cuda
