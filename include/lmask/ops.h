// ops.h — the reference layer operations of the native backend.
//
// Plain functions: outputs first, then inputs, then parameters. Each states
// its shapes. These are the oracle every faster path is tested against; the
// convolution is im2col + SGEMM (darknet's three lines; gemm.h: OpenBLAS, or
// the portable one in the embedded build), everything else a direct loop. Outputs must be allocated by the caller with the shape
// the function states (checked), so a forward pass controls its memory.
#pragma once

#include <memory>
#include <vector>

#include "lmask/gemm.h"
#include "lmask/host_device.h"
#include "lmask/tensor.h"

namespace lmask {

struct ConvParams {
  int in_channels = 0, out_channels = 0;
  int kernel = 1, stride = 1, padding = 0, dilation = 1, groups = 1;

  int out_size(int in) const { return (in + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1; }
  Shape out_shape(const Shape& in) const { return {in.n, out_channels, out_size(in.h), out_size(in.w)}; }
  Shape weight_shape() const { return {out_channels, in_channels / groups, kernel, kernel}; }
  // Rows of one group's im2col matrix: (I/groups)*K*K.
  int col_rows() const { return in_channels / groups * kernel * kernel; }
  // 1x1, stride 1, no padding: the input already is the GEMM operand.
  bool is_pointwise() const { return kernel == 1 && stride == 1 && padding == 0; }
  // One k x k filter per channel (groups = in = out channels, k > 1).
  bool is_depthwise() const { return groups > 1 && groups == in_channels && out_channels == in_channels && kernel > 1; }
};

struct BatchNormParams {
  Tensor gamma, beta, mean, var;  // each [1,C,1,1]
  float eps = 1e-5f;
  bool empty() const { return gamma.empty(); }
};

// The matrix product a conv runs on (gemm.h's signature).
using GemmFn = decltype(&sgemm);

// What the convs of a forward share: scratch memory reused across calls
// (im2col columns), and the SGEMM they call.
struct Workspace {
  GemmFn gemm = sgemm;  // the build's: OpenBLAS, or the portable one (embedded)
  // At least `count` floats, contents undefined; valid until the next call.
  float* columns(std::size_t count);

  // The calling thread's workspace, kept between forwards: the columns are a
  // forward's largest buffer (tens of MB at batch 8), and a fresh one each
  // time costs a page fault per 4 KiB. A forward sets `gemm` before use.
  static Workspace& for_this_thread();

 private:
  std::unique_ptr<float[]> cols_;
  std::size_t capacity_ = 0;
};

// cols [(C/groups)*K*K, OH*OW] for channels [c0, c0 + C/groups) of one image.
// image [C,H,W]; padding reads as 0.
void im2col(float* cols, const float* image, int height, int width, int c0,
            const ConvParams& p);

// y [N,O,OH,OW] = conv(x [N,I,H,W], weight [O,I/groups,K,K]) + bias [1,O,1,1]
// (bias may be empty); relu applies max(0,.) after the bias.
void conv2d(Tensor& y, const Tensor& x, const Tensor& weight, const Tensor& bias,
            const ConvParams& p, Workspace& ws, bool relu = false);

// x [N,C,H,W] in place: (x - mean) / sqrt(var + eps) * gamma + beta.
void batchnorm(Tensor& x, const BatchNormParams& bn);

// x in place: max(x, 0).
void relu(Tensor& x);

// y += x (same shape); with relu, y = max(y + x, 0): the residual join.
void add(Tensor& y, const Tensor& x, bool relu = false);

// A pooling window (square), with PyTorch's two switches.
struct PoolParams {
  int kernel = 1, stride = 1, padding = 0;
  // Round the output size up instead of down; as in PyTorch, a last window
  // that would start past the input (right padding only) is dropped.
  bool ceil_mode = false;
  // avgpool only: divide by the window clipped to the padded input (true,
  // PyTorch's default), or by its positions inside the image (false).
  bool count_include_pad = true;
  // Throws std::invalid_argument for parameters PyTorch refuses, or an
  // input with no output.
  int out_size(int in) const;
  // The same, 0 where out_size throws: for checks that must not throw.
  int out_size_or_zero(int in) const;
};

// y [N,C,OH,OW] = max over k x k windows of x [N,C,H,W]; padding never wins.
void maxpool2d(Tensor& y, const Tensor& x, int kernel, int stride, int padding);
int pool_out_size(int in, int kernel, int stride, int padding);
// The same with ceil_mode: positions past the input never win either.
void maxpool2d(Tensor& y, const Tensor& x, const PoolParams& p);

// y [N,C,OH,OW] = PyTorch AvgPool2d(kernel, stride, padding, ceil_mode,
// count_include_pad) of x [N,C,H,W]: the window's sum over the divisor above.
void avgpool2d(Tensor& y, const Tensor& x, const PoolParams& p);

// The pointwise activations of the CNNs lmask runs.
enum class Activation {
  relu,         // max(v, 0)
  relu6,        // min(max(v, 0), 6)
  hardswish,    // v * relu6(v + 3) / 6
  hardsigmoid,  // relu6(v + 3) / 6
  silu,         // v * sigmoid(v)
  sigmoid,      // 1 / (1 + exp(-v))
};
const char* activation_name(Activation a);
// x in place: f(x) elementwise.
void activate(Tensor& x, Activation a);

// y [N, sum C_i, H, W] = the inputs [N,C_i,H,W] one after another along C.
void concat_channels(Tensor& y, const std::vector<Tensor>& xs);

// x [N,C,H,W] in place: x * s, s [N,C,1,1] broadcast over H and W (the
// squeeze-excitation product).
void channel_scale(Tensor& x, const Tensor& s);

// y [N,C,OH,OW] = PyTorch AdaptiveAvgPool2d((OH,OW)) of x [N,C,H,W].
void adaptive_avgpool2d(Tensor& y, const Tensor& x);
// Its bin i of `out` over `in` positions, PyTorch's:
// [floor(i * in / out), ceil((i + 1) * in / out)).
// (LMASK_HOST_DEVICE: the CUDA kernels place their bins with these too.)
LMASK_HOST_DEVICE inline int adaptive_bin_begin(int i, int in, int out) { return i * in / out; }
LMASK_HOST_DEVICE inline int adaptive_bin_end(int i, int in, int out) { return ((i + 1) * in + out - 1) / out; }

// y [N,O,1,1] = x [N,I,1,1] . weight [O,I,1,1]^T + bias [1,O,1,1] (bias may be empty).
void linear(Tensor& y, const Tensor& x, const Tensor& weight, const Tensor& bias);

// Folds bn into the conv before it: weight scaled per output channel,
// returned bias = beta - mean * gamma / sqrt(var + eps) (+ old bias * scale).
void fold_batchnorm(Tensor& weight, Tensor& bias, const BatchNormParams& bn);

}  // namespace lmask
