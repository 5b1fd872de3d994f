// masked_ops.h — the operations layer masking adds to the reference ops
// (spec: shared/spec/LAYER_MASKING.md). Each states its mask rule.
#pragma once

#include <vector>

#include "lmask/mask.h"
#include "lmask/ops.h"

namespace lmask {

// How a conv treats removed input positions.
enum class Fill {
  neighbour_average,  // the spec's fill: k steps of 3x3 known-neighbour averages
  none,               // removed inputs stay 0 (a deliberately wrong variant, for tests)
  renorm,             // partial convolution: no fill, rescale by the window's visible fraction
};

// How a masked conv runs; both give the same values.
enum class Execution {
  active,  // compute only visible outputs; fill only the band they read
  dense,   // the spec read literally: fill everywhere, full conv, then mask
};

struct LayerMaskingOptions {
  Fill fill = Fill::neighbour_average;
  Execution execution = Execution::active;
  // The SGEMM the convs run on; nullptr: the build's (Workspace). A backend
  // that runs the masked forward on its own matrix product sets it.
  GemmFn gemm = nullptr;
};

// The spec's fill, literally, on the whole image. x [N,C,H,W] in place, must
// hold 0 at removed positions; m [N,1,H,W]. `steps` times:
//   num = box3(x); den = box3(r); x += (1 - r) * num / (den + 1e-5); r = min(r + den, 1)
// with box3 a 3x3 sum, zero padding, r starting as m.
void fill_reference(Tensor& x, const Mask& m, int steps);

// The same values as fill_reference, computed only on the frontier of each
// step (still-unknown positions with a known neighbour): after `steps` steps
// every position within `steps` (Chebyshev) of a visible one is final, and
// that band is all that later work touches.
void fill_frontier(Tensor& x, const Mask& m, int steps);

// Conv outputs at the listed positions only (flat n*OH*OW + oy*OW + ox of y's
// planes, ascending); every other output is 0. y [N,O,OH,OW], x [N,I,H,W].
// inv_scale (optional, one per listed position) multiplies the conv sum before
// the bias: partial convolution's 1/c. relu as in conv2d.
void conv2d_at(Tensor& y, const Tensor& x, const Tensor& weight, const Tensor& bias,
               const ConvParams& p, const std::vector<int>& positions, Workspace& ws,
               bool relu = false, const float* inv_scale = nullptr);

// Partial convolution's divisor at each listed output position:
// 1 / (conv(m, ones(KxK)/(K*K); stride, padding, dilation) + 1e-8).
std::vector<float> renorm_inv_scale(const Mask& m, const ConvParams& p,
                                    const std::vector<int>& positions);

// The bottleneck residual join: y = relu((y + x) * m) * m, in place in y
// (= relu(y + x) * m for a 0/1 mask). y, x [N,C,H,W]; m [N,1,H,W].
void masked_add_relu(Tensor& y, const Tensor& x, const Mask& m);

// y [N,C,1,1] = mean_hw(x * m) / (mean_hw(m) + 1e-8): an average over visible
// positions only; all-removed gives 0.
void masked_avgpool(Tensor& y, const Tensor& x, const Mask& m);

}  // namespace lmask
