// reference_ops.h — naive oracles for the layer operations, for tests only.
//
// Each function is the textbook definition written as direct loops, with no
// tiling, no im2col, no BLAS and double accumulation: slow, but easy to check
// by reading. The fast ops in src/ops are compared against these, so these
// must never be "optimized" — their value is that they are obviously right.
// They allocate and return their output rather than checking a caller's.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "lmask/mask.h"
#include "lmask/ops.h"
#include "lmask/tensor.h"

namespace lmask::testing {

// A tensor of uniform values in [lo, hi] from a fixed seed, so every failing
// case can be replayed exactly.
inline Tensor random_tensor(Shape shape, std::uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  Tensor t(shape);
  for (std::size_t i = 0; i < t.numel(); ++i) t.data()[i] = dist(rng);
  return t;
}

// A [n,1,h,w] mask with each position visible with probability `density`,
// from a fixed seed.
inline Mask random_mask(int n, int h, int w, double density, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::bernoulli_distribution visible(density);
  Tensor t({n, 1, h, w});
  for (std::size_t i = 0; i < t.numel(); ++i) t.data()[i] = visible(rng) ? 1.f : 0.f;
  return Mask(t);
}

// The largest error of `got` against `want`, relative to the magnitude of
// `want` (never below 1, so all-zero or tiny outputs are judged absolutely).
// Written out rather than built on max_abs_diff so that a NaN anywhere in
// `got` gives an infinite error instead of being skipped by a max.
inline double relative_error(const Tensor& got, const Tensor& want) {
  if (got.shape() != want.shape()) return std::numeric_limits<double>::infinity();
  double diff = 0.0, magnitude = 1.0;
  for (std::size_t i = 0; i < want.numel(); ++i) {
    const double d = std::fabs(double(got.data()[i]) - want.data()[i]);
    if (!std::isfinite(d)) return std::numeric_limits<double>::infinity();
    diff = std::max(diff, d);
    magnitude = std::max(magnitude, std::fabs(double(want.data()[i])));
  }
  return diff / magnitude;
}

// y[n,o,oy,ox] = bias[o] + sum over (ci, ky, kx) of
//   w[o,ci,ky,kx] * x[n, g*I/groups + ci, oy*s - p + ky*d, ox*s - p + kx*d]
// where g = o / (O/groups) and positions outside the image read as 0.
inline Tensor conv2d_naive(const Tensor& x, const Tensor& w, const Tensor& bias,
                           const ConvParams& p, bool relu = false) {
  const int in_per_group = p.in_channels / p.groups;
  const int out_per_group = p.out_channels / p.groups;
  const int oh = (x.h() + 2 * p.padding - p.dilation * (p.kernel - 1) - 1) / p.stride + 1;
  const int ow = (x.w() + 2 * p.padding - p.dilation * (p.kernel - 1) - 1) / p.stride + 1;
  Tensor y({x.n(), p.out_channels, oh, ow});
  for (int n = 0; n < x.n(); ++n)
    for (int o = 0; o < p.out_channels; ++o)
      for (int oy = 0; oy < oh; ++oy)
        for (int ox = 0; ox < ow; ++ox) {
          const int g = o / out_per_group;
          double sum = bias.empty() ? 0.0 : bias.at(0, o, 0, 0);
          for (int ci = 0; ci < in_per_group; ++ci)
            for (int ky = 0; ky < p.kernel; ++ky)
              for (int kx = 0; kx < p.kernel; ++kx) {
                const int iy = oy * p.stride - p.padding + ky * p.dilation;
                const int ix = ox * p.stride - p.padding + kx * p.dilation;
                if (iy < 0 || iy >= x.h() || ix < 0 || ix >= x.w()) continue;  // zero padding
                sum += double(w.at(o, ci, ky, kx)) * x.at(n, g * in_per_group + ci, iy, ix);
              }
          if (relu && sum < 0.0) sum = 0.0;
          y.at(n, o, oy, ox) = static_cast<float>(sum);
        }
  return y;
}

// Max over each kernel x kernel window; padded positions are not candidates
// (PyTorch pads max-pool with -inf), so they can never win.
inline Tensor maxpool_naive(const Tensor& x, int kernel, int stride, int padding) {
  const int oh = (x.h() + 2 * padding - kernel) / stride + 1;
  const int ow = (x.w() + 2 * padding - kernel) / stride + 1;
  Tensor y({x.n(), x.c(), oh, ow});
  for (int n = 0; n < x.n(); ++n)
    for (int c = 0; c < x.c(); ++c)
      for (int oy = 0; oy < oh; ++oy)
        for (int ox = 0; ox < ow; ++ox) {
          float best = -std::numeric_limits<float>::infinity();
          for (int ky = 0; ky < kernel; ++ky)
            for (int kx = 0; kx < kernel; ++kx) {
              const int iy = oy * stride - padding + ky, ix = ox * stride - padding + kx;
              if (iy < 0 || iy >= x.h() || ix < 0 || ix >= x.w()) continue;
              best = std::max(best, x.at(n, c, iy, ix));
            }
          y.at(n, c, oy, ox) = best;
        }
  return y;
}

// The number of windows PoolParams gives along an axis of length `in`,
// counted one window at a time rather than by formula. Floor mode: windows
// that fit inside the padded input. Ceil mode: windows are added while the
// one before has not reached the end of the padded input, then a last one
// that would start in the right padding (at or past `in`) is dropped.
// The parameters are assumed valid (PyTorch's: padding <= kernel/2).
inline int pool_out_size_naive(int in, const PoolParams& p) {
  const int padded = in + 2 * p.padding;
  int out = 0;
  if (!p.ceil_mode) {
    while (out * p.stride + p.kernel <= padded) ++out;
  } else {
    while ((out - 1) * p.stride + p.kernel < padded) ++out;  // window out-1 leaves some uncovered
    if (out > 0 && (out - 1) * p.stride - p.padding >= in) --out;
  }
  return out;
}

// PyTorch MaxPool2d with ceil_mode: the max over the in-image positions of
// each window; padding and positions past the input are not candidates.
inline Tensor maxpool_naive(const Tensor& x, const PoolParams& p) {
  const int oh = pool_out_size_naive(x.h(), p), ow = pool_out_size_naive(x.w(), p);
  Tensor y({x.n(), x.c(), oh, ow});
  for (int n = 0; n < x.n(); ++n)
    for (int c = 0; c < x.c(); ++c)
      for (int oy = 0; oy < oh; ++oy)
        for (int ox = 0; ox < ow; ++ox) {
          float best = -std::numeric_limits<float>::infinity();
          for (int ky = 0; ky < p.kernel; ++ky)
            for (int kx = 0; kx < p.kernel; ++kx) {
              const int iy = oy * p.stride - p.padding + ky, ix = ox * p.stride - p.padding + kx;
              if (iy < 0 || iy >= x.h() || ix < 0 || ix >= x.w()) continue;
              best = std::max(best, x.at(n, c, iy, ix));
            }
          y.at(n, c, oy, ox) = best;
        }
  return y;
}

// PyTorch AvgPool2d(kernel, stride, padding, ceil_mode, count_include_pad),
// position by position: each of the k x k window positions is either in the
// image (summed, and counted by both divisors), in the zero padding (counted
// only with count_include_pad), or past the padded input, which only a ceil
// mode window reaches (counted by neither). Checked by hand against the
// semantics of PyTorch's CPU kernel (aten/src/ATen/native/cpu/AvgPoolKernel.cpp,
// cpu_avg_pool) in test_ops_zoo.cpp; torch was not available to run.
inline Tensor avgpool2d_naive(const Tensor& x, const PoolParams& p) {
  const int oh = pool_out_size_naive(x.h(), p), ow = pool_out_size_naive(x.w(), p);
  auto in_padded = [&](int i, int len) { return i >= -p.padding && i < len + p.padding; };
  auto in_image = [](int i, int len) { return i >= 0 && i < len; };
  Tensor y({x.n(), x.c(), oh, ow});
  for (int n = 0; n < x.n(); ++n)
    for (int c = 0; c < x.c(); ++c)
      for (int oy = 0; oy < oh; ++oy)
        for (int ox = 0; ox < ow; ++ox) {
          double sum = 0.0;
          int image_count = 0, padded_count = 0;
          for (int ky = 0; ky < p.kernel; ++ky)
            for (int kx = 0; kx < p.kernel; ++kx) {
              const int iy = oy * p.stride - p.padding + ky, ix = ox * p.stride - p.padding + kx;
              if (in_padded(iy, x.h()) && in_padded(ix, x.w())) ++padded_count;
              if (in_image(iy, x.h()) && in_image(ix, x.w())) {
                ++image_count;
                sum += x.at(n, c, iy, ix);
              }
            }
          const int divisor = p.count_include_pad ? padded_count : image_count;
          y.at(n, c, oy, ox) = static_cast<float>(sum / divisor);
        }
  return y;
}

// f(v) of each activation, from its textbook definition, in double.
// Non-finite inputs follow IEEE arithmetic on the same definition (so
// -inf * 0 = NaN for hardswish, -inf / inf = NaN for silu), as PyTorch's
// float32 kernels do; max/min here keep a NaN.
inline double activation_naive(double v, Activation a) {
  if (std::isnan(v)) return v;
  const double shifted = std::min(std::max(v + 3.0, 0.0), 6.0);  // relu6(v + 3)
  switch (a) {
    case Activation::relu: return std::max(v, 0.0);
    case Activation::relu6: return std::min(std::max(v, 0.0), 6.0);
    case Activation::hardswish: return v * shifted / 6.0;
    case Activation::hardsigmoid: return shifted / 6.0;
    case Activation::silu: return v / (1.0 + std::exp(-v));
    case Activation::sigmoid: return 1.0 / (1.0 + std::exp(-v));
  }
  return std::numeric_limits<double>::quiet_NaN();
}

inline Tensor activate_naive(const Tensor& x, Activation a) {
  Tensor y(x.shape());
  for (std::size_t i = 0; i < x.numel(); ++i)
    y.data()[i] = static_cast<float>(activation_naive(x.data()[i], a));
  return y;
}

// y[n, c0 + c, h, w] = xs[i][n, c, h, w], where c0 is the channel count of
// the inputs before i.
inline Tensor concat_channels_naive(const std::vector<Tensor>& xs) {
  int channels = 0;
  for (const Tensor& x : xs) channels += x.c();
  const Tensor& first = xs.front();
  Tensor y({first.n(), channels, first.h(), first.w()});
  int c0 = 0;
  for (const Tensor& x : xs) {
    for (int n = 0; n < x.n(); ++n)
      for (int c = 0; c < x.c(); ++c)
        for (int h = 0; h < x.h(); ++h)
          for (int w = 0; w < x.w(); ++w) y.at(n, c0 + c, h, w) = x.at(n, c, h, w);
    c0 += x.c();
  }
  return y;
}

// y[n,c,h,w] = x[n,c,h,w] * s[n,c,0,0].
inline Tensor channel_scale_naive(const Tensor& x, const Tensor& s) {
  Tensor y(x.shape());
  for (int n = 0; n < x.n(); ++n)
    for (int c = 0; c < x.c(); ++c)
      for (int h = 0; h < x.h(); ++h)
        for (int w = 0; w < x.w(); ++w)
          y.at(n, c, h, w) = static_cast<float>(double(x.at(n, c, h, w)) * s.at(n, c, 0, 0));
  return y;
}

// PyTorch AdaptiveAvgPool2d((oh, ow)): output cell i along an axis of length
// L averages input [floor(i*L/out), ceil((i+1)*L/out)). Bins may overlap when
// L is not a multiple of out. Computed in floating point on purpose, to be
// independent of the integer formula the fast version uses.
inline Tensor avgpool_naive(const Tensor& x, int oh, int ow) {
  auto bin_start = [](int i, int len, int out) { return int(std::floor(double(i) * len / out)); };
  auto bin_end = [](int i, int len, int out) { return int(std::ceil(double(i + 1) * len / out)); };
  Tensor y({x.n(), x.c(), oh, ow});
  for (int n = 0; n < x.n(); ++n)
    for (int c = 0; c < x.c(); ++c)
      for (int oy = 0; oy < oh; ++oy)
        for (int ox = 0; ox < ow; ++ox) {
          const int y0 = bin_start(oy, x.h(), oh), y1 = bin_end(oy, x.h(), oh);
          const int x0 = bin_start(ox, x.w(), ow), x1 = bin_end(ox, x.w(), ow);
          double sum = 0.0;
          for (int iy = y0; iy < y1; ++iy)
            for (int ix = x0; ix < x1; ++ix) sum += x.at(n, c, iy, ix);
          y.at(n, c, oy, ox) = static_cast<float>(sum / ((y1 - y0) * (x1 - x0)));
        }
  return y;
}

// y[n,o] = bias[o] + sum_i w[o,i] * x[n,i]; x is [N,I,1,1] (any [N,C,H,W]
// is read as its flattened C*H*W features), w [O,I,1,1], bias [1,O,1,1].
inline Tensor linear_naive(const Tensor& x, const Tensor& w, const Tensor& bias) {
  const int in = static_cast<int>(x.shape().image_size()), out = w.n();
  Tensor y({x.n(), out, 1, 1});
  for (int n = 0; n < x.n(); ++n)
    for (int o = 0; o < out; ++o) {
      double sum = bias.empty() ? 0.0 : bias.at(0, o, 0, 0);
      for (int i = 0; i < in; ++i) sum += double(w.data()[std::size_t(o) * in + i]) * x.image(n)[i];
      y.at(n, o, 0, 0) = static_cast<float>(sum);
    }
  return y;
}

// Eval-mode BatchNorm: (x - mean) / sqrt(var + eps) * gamma + beta, per channel.
inline Tensor batchnorm_naive(const Tensor& x, const BatchNormParams& bn) {
  Tensor y(x.shape());
  for (int n = 0; n < x.n(); ++n)
    for (int c = 0; c < x.c(); ++c)
      for (int h = 0; h < x.h(); ++h)
        for (int w = 0; w < x.w(); ++w) {
          const double normalized = (double(x.at(n, c, h, w)) - bn.mean.at(0, c, 0, 0)) /
                                    std::sqrt(double(bn.var.at(0, c, 0, 0)) + bn.eps);
          y.at(n, c, h, w) =
              static_cast<float>(normalized * bn.gamma.at(0, c, 0, 0) + bn.beta.at(0, c, 0, 0));
        }
  return y;
}

}  // namespace lmask::testing
