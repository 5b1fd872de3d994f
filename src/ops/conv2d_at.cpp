// conv2d_at.cpp — active-region convolution: im2col gathers only the listed
// (visible) output positions of the whole batch into the GEMM's columns, and
// the result is scattered back; every other output is 0.
//   per chunk of P positions and group g:
//   cols[k,P] = gather(x); Yc[m,P] = W_g[m,k] . cols; y[n_j, g*m + o, pix_j] = Yc[o,j]
#include "lmask/gemm.h"

#include <algorithm>
#include <stdexcept>

#include "lmask/kernels.h"
#include "lmask/mask_rules.h"
#include "lmask/masked_ops.h"

namespace lmask {

namespace {

// Columns per GEMM: bounds the workspace (k*P + m*P floats) while keeping
// the GEMM wide enough to run at full speed. The column bound keeps the
// stem's workspace (k = 147) at 3.5 MB instead of 10.6 at batch 1.
constexpr std::size_t kMaxWorkspaceFloats = std::size_t(8) << 20;
constexpr std::size_t kMaxColumns = 4096;

// Visible outputs come in horizontal runs (a patch row, a visible band), so
// the gather and the scatter work on runs: for a run of `len` consecutive
// outputs of one row, each im2col row reads `len` inputs spaced by the stride,
// a plain (for stride 1, contiguous) copy instead of one indexed load each.
struct Run {
  int column;    // first GEMM column of the run
  int len;       // outputs in the run
  int image;     // batch index
  int pixel;     // oy * ow + ox of the first output
  int iy0, ix0;  // input coordinates its window starts at (may be negative)
};

void decode_runs(std::vector<Run>& runs, const int* pos, int count, int oh, int ow, const ConvParams& p) {
  const int plane = oh * ow;
  runs.clear();
  for (int j = 0; j < count; ++j) {
    const int n = pos[j] / plane, pix = pos[j] % plane;
    if (!runs.empty()) {
      Run& last = runs.back();
      // Same image, same row, next pixel: the run goes on.
      if (last.image == n && last.pixel + last.len == pix && pix % ow != 0) {
        ++last.len;
        continue;
      }
    }
    runs.push_back({j, 1, n, pix, (pix / ow) * p.stride - p.padding, (pix % ow) * p.stride - p.padding});
  }
}

// One im2col row of one run: dst[t] = src_row[ix + t * stride], 0 outside [0, w).
void gather_run(float* dst, const float* src_row, int ix, int len, int stride, int w) {
  // Outputs t in [t0, t1) read inside the row; the rest read padding.
  int t0 = ix < 0 ? (-ix + stride - 1) / stride : 0;
  int t1 = ix >= w ? 0 : (w - 1 - ix) / stride + 1;
  t0 = std::min(t0, len);
  t1 = std::max(t0, std::min(t1, len));
  // Runs are short (a few outputs at the deeper layers), so plain loops:
  // a library call per run costs more than the copy.
  for (int t = 0; t < t0; ++t) dst[t] = 0.f;
  for (int t = t0; t < t1; ++t) dst[t] = src_row[ix + t * stride];
  for (int t = t1; t < len; ++t) dst[t] = 0.f;
}

// cols [(C/g)*K*K, P] for channels [c0, c0 + C/g): the im2col rows of the
// listed positions only; padding reads as 0.
void gather_columns(float* cols, const Tensor& x, int c0, const ConvParams& p,
                    const std::vector<Run>& runs, int count) {
  const int channels = p.in_channels / p.groups, k = p.kernel, h = x.h(), w = x.w();
  const std::size_t plane = x.shape().plane_size();
#pragma omp parallel for collapse(3) schedule(static)
  for (int c = 0; c < channels; ++c)
    for (int ky = 0; ky < k; ++ky)
      for (int kx = 0; kx < k; ++kx) {
        float* row = cols + ((static_cast<std::size_t>(c) * k + ky) * k + kx) * count;
        const int dy = ky * p.dilation, dx = kx * p.dilation;
        for (const Run& r : runs) {
          const int iy = r.iy0 + dy;
          if (iy < 0 || iy >= h) {
            std::fill(row + r.column, row + r.column + r.len, 0.f);
          } else {
            const float* src_row = x.image(r.image) + (c0 + c) * plane + static_cast<std::size_t>(iy) * w;
            gather_run(row + r.column, src_row, r.ix0 + dx, r.len, p.stride, w);
          }
        }
      }
}

// Output channel oc of y at flat positions [from, to) (n * plane + pixel): 0.
void zero_outputs(Tensor& y, int oc, std::size_t from, std::size_t to) {
  const std::size_t plane = y.shape().plane_size();
  while (from < to) {
    const std::size_t n = from / plane, pix = from % plane, len = std::min(to - from, plane - pix);
    float* dst = y.image(static_cast<int>(n)) + oc * plane + pix;
    std::fill(dst, dst + len, 0.f);
    from += len;
  }
}

// conv2d_at of a depthwise conv: the direct loop (depthwise.cpp) at the
// listed positions of each image, every other output 0.
void depthwise_at(Tensor& y, const Tensor& x, const Tensor& weight, const Tensor& bias, const ConvParams& p,
                  const std::vector<int>& positions, bool relu, const float* inv_scale) {
  const int plane = y.h() * y.w();
  y.fill(0.f);
  // Per image, the range of `positions` (sorted, flat over the batch) and their pixels.
  std::vector<int> first(y.n() + 1, 0), pixels(positions.size());
  for (std::size_t j = 0; j < positions.size(); ++j) {
    pixels[j] = positions[j] % plane;
    first[positions[j] / plane + 1] = static_cast<int>(j) + 1;
  }
  for (int n = 1; n <= y.n(); ++n) first[n] = std::max(first[n], first[n - 1]);
  const int planes = y.n() * p.in_channels;
#pragma omp parallel for schedule(static)
  for (int i = 0; i < planes; ++i) {
    const int n = i / p.in_channels, c = i % p.in_channels;
    const int from = first[n], count = first[n + 1] - from;
    kernels::depthwise_at_positions(y.data() + static_cast<std::size_t>(i) * plane,
                                    x.data() + static_cast<std::size_t>(i) * x.h() * x.w(),
                                    weight.data() + static_cast<std::size_t>(c) * p.kernel * p.kernel,
                                    bias.empty() ? 0.f : bias.data()[c], x.h(), x.w(), y.w(), p,
                                    pixels.data() + from, count, inv_scale ? inv_scale + from : nullptr, relu);
  }
}

}  // namespace

void conv2d_at(Tensor& y, const Tensor& x, const Tensor& weight, const Tensor& bias,
               const ConvParams& p, const std::vector<int>& positions, Workspace& ws,
               bool relu, const float* inv_scale) {
  if (x.c() != p.in_channels) throw std::invalid_argument("conv2d_at: input channels mismatch");
  check_shape(weight, p.weight_shape(), "conv2d_at weight");
  check_shape(y, p.out_shape(x.shape()), "conv2d_at output");

  const int m = p.out_channels / p.groups, k = p.col_rows();
  const std::size_t out_plane = y.shape().plane_size();
  if (p.is_depthwise()) return depthwise_at(y, x, weight, bias, p, positions, relu, inv_scale);
  const int chunk = static_cast<int>(std::clamp<std::size_t>(kMaxWorkspaceFloats / (k + m), 1, kMaxColumns));
  std::vector<Run> runs;
  // Every output is written once: the listed ones by the scatter, the gaps
  // between them with 0 as the scatter passes (y may hold anything before).
  std::size_t written_to = 0;  // flat position the previous chunk's scatter reached
  for (std::size_t start = 0; start < positions.size(); start += chunk) {
    const int count = static_cast<int>(std::min<std::size_t>(chunk, positions.size() - start));
    decode_runs(runs, positions.data() + start, count, y.h(), y.w(), p);
    float* cols = ws.columns(static_cast<std::size_t>(k + m) * count);
    float* result = cols + static_cast<std::size_t>(k) * count;  // Yc [m, count]
    for (int g = 0; g < p.groups; ++g) {
      gather_columns(cols, x, g * (p.in_channels / p.groups), p, runs, count);
      ws.gemm(Transpose::no, Transpose::no, m, count, k, 1.f,
                  weight.data() + static_cast<std::size_t>(g) * m * k, k, cols, count, 0.f,
                  result, count);
#pragma omp parallel for schedule(static)
      for (int o = 0; o < m; ++o) {
        const int oc = g * m + o;
        const float b = bias.empty() ? 0.f : bias.data()[oc];
        const float* src = result + static_cast<std::size_t>(o) * count;
        const float* scale = inv_scale ? inv_scale + start : nullptr;
        std::size_t gap_from = written_to;
        for (const Run& r : runs) {
          const std::size_t flat = static_cast<std::size_t>(r.image) * out_plane + r.pixel;
          zero_outputs(y, oc, gap_from, flat);
          gap_from = flat + r.len;
          float* dst = y.image(r.image) + oc * out_plane + r.pixel;
          for (int t = 0; t < r.len; ++t) {
            const int j = r.column + t;
            float v = src[j] * (scale ? scale[j] : 1.f) + b;
            dst[t] = relu && v < 0.f ? 0.f : v;
          }
        }
      }
    }
    const Run& last = runs.back();
    written_to = static_cast<std::size_t>(last.image) * out_plane + last.pixel + last.len;
  }
  const std::size_t outputs = static_cast<std::size_t>(y.n()) * out_plane;
#pragma omp parallel for schedule(static)
  for (int oc = 0; oc < p.out_channels; ++oc) zero_outputs(y, oc, written_to, outputs);
}

std::vector<float> renorm_inv_scale(const Mask& m, const ConvParams& p,
                                    const std::vector<int>& positions) {
  const int oh = p.out_size(m.h()), ow = p.out_size(m.w()), k = p.kernel;
  std::vector<float> inv(positions.size());
  for (std::size_t j = 0; j < positions.size(); ++j) {
    const int n = positions[j] / (oh * ow), pix = positions[j] % (oh * ow);
    const int y0 = (pix / ow) * p.stride - p.padding, x0 = (pix % ow) * p.stride - p.padding;
    const float visible = kernels::window_visible(m.image(n), m.h(), m.w(), y0, x0, k, p.dilation);
    inv[j] = rules::renorm_inv_scale(visible, k);
  }
  return inv;
}

void masked_avgpool(Tensor& y, const Tensor& x, const Mask& m) {
  check_shape(y, {x.n(), x.c(), 1, 1}, "masked_avgpool output");
  const std::size_t plane = x.shape().plane_size();
  for (int n = 0; n < x.n(); ++n) {
    const float* mask = m.image(n);
    double visible = 0.0;
    for (std::size_t i = 0; i < plane; ++i) visible += mask[i];
#pragma omp parallel for schedule(static)
    for (int c = 0; c < x.c(); ++c) {
      const float* v = x.image(n) + c * plane;
      double sum = 0.0;
      for (std::size_t i = 0; i < plane; ++i) sum += double(v[i]) * mask[i];
      y.image(n)[c] = static_cast<float>(rules::visible_mean(sum, visible, double(plane)));
    }
  }
}

}  // namespace lmask
