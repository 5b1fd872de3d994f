// arena_ops.cpp — the embedded forward's layers on raw arena pointers.
//
// Written as the reference ops are (same formulas, same order of float
// operations where it matters: the fill is bit-identical to fill_reference);
// the difference is only where memory comes from. Not here: threads (the
// embedded build has none) or any active-region trickery: masked convs run
// densely and the mask zeroes the removed outputs.
#include "lmask/arena_ops.h"

#include <algorithm>
#include <limits>

#include "lmask/gemm.h"
#include "lmask/mask_rules.h"
#include "lmask/kernels.h"

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

void maxpool(float* y, const float* x, const Shape& s, int kernel, int stride, int padding) {
  const int oh = pool_out_size(s.h, kernel, stride, padding);
  const int ow = pool_out_size(s.w, kernel, stride, padding);
  for (int pl = 0; pl < s.n * s.c; ++pl) {
    const float* in = x + static_cast<std::size_t>(pl) * s.h * s.w;
    float* out = y + static_cast<std::size_t>(pl) * oh * ow;
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox) {
        float best = -std::numeric_limits<float>::infinity();
        const int y0 = std::max(oy * stride - padding, 0);
        const int y1 = std::min(oy * stride - padding + kernel, s.h);
        const int x0 = std::max(ox * stride - padding, 0);
        const int x1 = std::min(ox * stride - padding + kernel, s.w);
        for (int iy = y0; iy < y1; ++iy)
          for (int ix = x0; ix < x1; ++ix) best = std::max(best, in[iy * s.w + ix]);
        out[oy * ow + ox] = best;
      }
  }
}

void avgpool(float* y, const float* x, const Shape& s) {
  const std::size_t plane = s.plane_size();
  for (int pl = 0; pl < s.n * s.c; ++pl) {
    const float* in = x + pl * plane;
    double sum = 0.0;
    for (std::size_t i = 0; i < plane; ++i) sum += in[i];
    y[pl] = static_cast<float>(sum / double(plane));
  }
}

void masked_avgpool(float* y, const float* x, const float* m, const Shape& s) {
  const std::size_t plane = s.plane_size();
  for (int n = 0; n < s.n; ++n) {
    const float* mask = m + n * plane;
    double visible = 0.0;
    for (std::size_t i = 0; i < plane; ++i) visible += mask[i];
    for (int c = 0; c < s.c; ++c) {
      const float* v = x + (static_cast<std::size_t>(n) * s.c + c) * plane;
      double sum = 0.0;
      for (std::size_t i = 0; i < plane; ++i) sum += double(v[i]) * mask[i];
      y[n * s.c + c] = static_cast<float>(rules::visible_mean(sum, visible, double(plane)));
    }
  }
}

void linear(float* y, const float* x, const float* weight, const float* bias, int n, int in, int out) {
  for (int i = 0; i < n; ++i) std::copy(bias, bias + out, y + static_cast<std::size_t>(i) * out);
  sgemm(Transpose::no, Transpose::yes, n, out, in, 1.f, x, in, weight, in, 1.f, y, out);
}

void pool_mask(float* out, const float* m, int n, int h, int w, int kernel, int stride,
               int padding, int dilation) {
  const int span = dilation * (kernel - 1) + 1;
  const int oh = (h + 2 * padding - span) / stride + 1;
  const int ow = (w + 2 * padding - span) / stride + 1;
  for (int i = 0; i < n; ++i) {
    const float* in = m + static_cast<std::size_t>(i) * h * w;
    float* o = out + static_cast<std::size_t>(i) * oh * ow;
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox) {
        float v = 0.f;
        for (int ky = 0; ky < kernel && v == 0.f; ++ky) {
          const int iy = oy * stride - padding + ky * dilation;
          if (iy < 0 || iy >= h) continue;
          for (int kx = 0; kx < kernel; ++kx) {
            const int ix = ox * stride - padding + kx * dilation;
            if (ix >= 0 && ix < w && in[iy * w + ix] != 0.f) {
              v = 1.f;
              break;
            }
          }
        }
        o[oy * ow + ox] = v;
      }
  }
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
  const int h = s.h, w = s.w;
  const std::size_t plane = s.plane_size();
  float* r = scratch;
  float* den = scratch + plane;
  float* num = scratch + 2 * plane;
  for (int n = 0; n < s.n; ++n) {
    const float* mask = m + n * plane;
    if (std::all_of(mask, mask + plane, [](float v) { return v != 0.f; })) continue;
    std::copy(mask, mask + plane, r);
    for (int step = 0; step < steps; ++step) {
      kernels::box3(den, r, h, w);
      for (int c = 0; c < s.c; ++c) {
        float* v = x + (static_cast<std::size_t>(n) * s.c + c) * plane;
        kernels::box3(num, v, h, w);
        for (std::size_t i = 0; i < plane; ++i) v[i] += (1.f - r[i]) * rules::fill_value(num[i], den[i]);
      }
      for (std::size_t i = 0; i < plane; ++i) r[i] = std::min(r[i] + den[i], 1.f);
    }
  }
}

}  // namespace lmask::arena
