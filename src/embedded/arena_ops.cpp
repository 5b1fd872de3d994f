// arena_ops.cpp — the embedded forward's own steps on raw arena pointers.
//
// Written as the reference ops are (same formulas, same order of float
// operations where it matters: the fill is fill_reference's loop, the
// epilogues conv2d's and conv2d_at's); the difference is only where memory
// comes from. Not here: threads (the embedded build has none) or any
// active-region trickery: masked convs run densely and the mask zeroes the
// removed outputs.
#include "lmask/arena_ops.h"

#include <algorithm>

#include "lmask/gemm.h"
#include "lmask/kernels.h"
#include "lmask/mask_rules.h"

namespace lmask::arena {

int chunk_columns(const ConvParams& p, int out_positions, std::size_t budget) {
  if (p.is_pointwise()) return 0;
  const std::size_t fit = budget / static_cast<std::size_t>(p.col_rows());
  return static_cast<int>(std::clamp<std::size_t>(fit, 1, static_cast<std::size_t>(out_positions)));
}

void im2col_columns(float* cols, const float* image, int height, int width, int c0,
                    const ConvParams& p, int first, int count) {
  const int ow = p.out_size(width), channels = p.in_channels / p.groups, k = p.kernel;
  const std::size_t plane = static_cast<std::size_t>(height) * width;
  for (int c = 0; c < channels; ++c)
    for (int ky = 0; ky < k; ++ky)
      for (int kx = 0; kx < k; ++kx) {
        const float* src = image + (c0 + c) * plane;
        float* row = cols + ((static_cast<std::size_t>(c) * k + ky) * k + kx) * count;
        int oy = first / ow, ox = first % ow;
        for (int j = 0; j < count; ++j) {
          const int iy = oy * p.stride - p.padding + ky * p.dilation;
          const int ix = ox * p.stride - p.padding + kx * p.dilation;
          row[j] = (iy >= 0 && iy < height && ix >= 0 && ix < width) ? src[iy * width + ix] : 0.f;
          if (++ox == ow) ox = 0, ++oy;
        }
      }
}

void conv(float* y, const float* x, const Shape& x_shape, const ConvParams& p,
          const float* weight, const float* bias, bool accumulate, bool relu, float* cols,
          std::size_t budget) {
  const int out_positions = p.out_size(x_shape.h) * p.out_size(x_shape.w);
  const int m = p.out_channels / p.groups, k = p.col_rows();
  const int chunk = chunk_columns(p, out_positions, budget);
  const float beta = accumulate ? 1.f : 0.f;
  const int group_channels = p.in_channels / p.groups;
  for (int img = 0; img < x_shape.n; ++img) {
    const float* image = x + img * x_shape.image_size();
    float* out = y + static_cast<std::size_t>(img) * p.out_channels * out_positions;
    for (int g = 0; g < p.groups; ++g) {
      const float* w = weight + static_cast<std::size_t>(g) * m * k;
      float* y_g = out + static_cast<std::size_t>(g) * m * out_positions;
      if (p.is_pointwise()) {
        sgemm(Transpose::no, Transpose::no, m, out_positions, k, 1.f, w, k,
              image + static_cast<std::size_t>(g) * k * out_positions, out_positions, beta, y_g,
              out_positions);
        continue;
      }
      // The GEMM in column chunks, so the unfolded input never exceeds the budget.
      for (int first = 0; first < out_positions; first += chunk) {
        const int count = std::min(chunk, out_positions - first);
        im2col_columns(cols, image, x_shape.h, x_shape.w, g * group_channels, p, first, count);
        sgemm(Transpose::no, Transpose::no, m, count, k, 1.f, w, k, cols, count, beta, y_g + first,
              out_positions);
      }
    }
    kernels::bias_relu(out, bias, p.out_channels, out_positions, relu);
  }
}

void renorm_scale(float* scale, const float* m, const Shape& s, const ConvParams& p, int oh, int ow) {
  for (int n = 0; n < s.n; ++n) {
    const float* mask = m + static_cast<std::size_t>(n) * s.h * s.w;
    float* out = scale + static_cast<std::size_t>(n) * oh * ow;
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox) {
        const float visible = kernels::window_visible(mask, s.h, s.w, oy * p.stride - p.padding,
                                                      ox * p.stride - p.padding, p.kernel, p.dilation);
        out[oy * ow + ox] = rules::renorm_inv_scale(visible, p.kernel);
      }
  }
}

void scale_bias_relu(float* y, const float* scale, const float* bias, const Shape& s, bool relu) {
  const std::size_t plane = s.plane_size();
  for (int n = 0; n < s.n; ++n)
    for (int c = 0; c < s.c; ++c) {
      float* v = y + (static_cast<std::size_t>(n) * s.c + c) * plane;
      const float* k = scale + static_cast<std::size_t>(n) * plane;
      const float b = bias ? bias[c] : 0.f;
      for (std::size_t i = 0; i < plane; ++i) {
        const float out = v[i] * k[i] + b;
        v[i] = relu && out < 0.f ? 0.f : out;
      }
    }
}

void linear(float* y, const float* x, const float* weight, const float* bias, int n, int in, int out) {
  for (int i = 0; i < n; ++i) {
    float* row = y + static_cast<std::size_t>(i) * out;
    if (bias) std::copy(bias, bias + out, row);
    else std::fill(row, row + out, 0.f);
  }
  sgemm(Transpose::no, Transpose::yes, n, out, in, 1.f, x, in, weight, in, 1.f, y, out);
}

void apply_mask(float* x, const float* m, const Shape& s) {
  const std::size_t plane = s.plane_size();
  for (int n = 0; n < s.n; ++n)
    for (int c = 0; c < s.c; ++c) {
      const float* mask = m + n * plane;
      float* v = x + (static_cast<std::size_t>(n) * s.c + c) * plane;
      for (std::size_t i = 0; i < plane; ++i) v[i] *= mask[i];
    }
}

void multiply_mask(float* a, const float* b, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) a[i] *= b[i];
}

void fill(float* x, const float* m, const Shape& s, int steps, float* scratch) {
  const std::size_t plane = s.plane_size();
  for (int n = 0; n < s.n; ++n) {
    const float* mask = m + n * plane;
    if (std::all_of(mask, mask + plane, [](float v) { return v != 0.f; })) continue;
    kernels::fill_image(x + n * s.image_size(), mask, s.c, s.h, s.w, steps, scratch);
  }
}

}  // namespace lmask::arena
