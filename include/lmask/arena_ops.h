// arena_ops.h — the steps of the embedded forward (embedded.h) that only it
// runs: the conv in im2col chunks of a fixed budget, the fill and the
// partial convolution's scale on caller scratch, masks as plain planes.
// The other steps are the reference ops' own loops (kernels.h).
//
// Plain functions on raw pointers into the caller's arena: outputs first,
// then inputs, then parameters, then sizes. None allocates, starts a thread
// or throws; the shapes were checked once, against the plan. Each computes
// what its reference op computes (ops.h, masked_ops.h) and
// tests/test_embedded.cpp checks it against that op.
// Dimension letters as in tensor.h; masks are float 0/1 planes, 1 = visible.
#pragma once

#include <cstddef>

#include "lmask/ops.h"

namespace lmask::arena {

// Output positions one im2col chunk of conv `p` covers when its columns may
// take `budget` floats: at least 1, at most out_positions; 0 for a pointwise
// conv, which reads its input in place.
int chunk_columns(const ConvParams& p, int out_positions, std::size_t budget);

// cols [(C/g)*K*K, count] = columns [first, first+count) of im2col's matrix
// (output positions in row-major order) for channels [c0, c0 + C/g) of
// image [C,H,W]; padding reads as 0. im2col(...) is first = 0, count = OH*OW.
void im2col_columns(float* cols, const float* image, int height, int width, int c0,
                    const ConvParams& p, int first, int count);

// y [N,O,OH,OW] = conv(x [N,I,H,W], weight [O,I/g,K,K]) + bias [O] (may be
// null) (+ y itself when `accumulate`: the residual join fused into the
// GEMM), then max(., 0) when `relu`. cols: chunk_columns(p, OH*OW, budget) *
// (I/g)*K*K floats.
void conv(float* y, const float* x, const Shape& x_shape, const ConvParams& p,
          const float* weight, const float* bias, bool accumulate, bool relu, float* cols,
          std::size_t budget);

// Partial convolution (Fill::renorm): scale [N,OH,OW] = 1/c of each output
// of conv `p` over m [N,1,H,W] (rules::renorm_inv_scale), then
// y [N,O,OH,OW] = y * scale + bias [O] (may be null), max(., 0) when `relu`:
// conv2d_at's epilogue with its inv_scale.
void renorm_scale(float* scale, const float* m, const Shape& x_shape, const ConvParams& p, int oh, int ow);
void scale_bias_relu(float* y, const float* scale, const float* bias, const Shape& y_shape, bool relu);

// y [N,O] = x [N,I] . weight [O,I]^T + bias [O] (may be null).
void linear(float* y, const float* x, const float* weight, const float* bias, int n, int in, int out);

// x [N,C,H,W] *= m [N,1,H,W].
void apply_mask(float* x, const float* m, const Shape& x_shape);

// a [count] *= b [count]: the product of two masks.
void multiply_mask(float* a, const float* b, std::size_t count);

// fill_reference(x, m, steps) of masked_ops.h in place on x [N,C,H,W], which
// holds 0 at removed positions; m [N,1,H,W]. Images whose mask is all visible
// are left as they are (the formula adds exactly 0 there).
// scratch: fill_scratch_floats(H, W) floats.
void fill(float* x, const float* m, const Shape& x_shape, int steps, float* scratch);
inline std::size_t fill_scratch_floats(int height, int width) {
  return 3 * static_cast<std::size_t>(height) * width;
}

}  // namespace lmask::arena
