// conv2d_at.cpp — active-region convolution: im2col gathers only the listed
// (visible) output positions of the whole batch into the GEMM's columns, and
// the result is scattered back; every other output is 0.
//   per chunk of P positions and group g:
//   cols[k,P] = gather(x); Yc[m,P] = W_g[m,k] . cols; y[n_j, g*m + o, pix_j] = Yc[o,j]
#include <cblas.h>

#include <algorithm>
#include <stdexcept>

#include "lmask/masked_ops.h"

namespace lmask {

namespace {

// Columns per GEMM: bounds the workspace (k*P + m*P floats) while keeping
// the GEMM wide enough to run at full speed.
constexpr std::size_t kMaxWorkspaceFloats = std::size_t(8) << 20;

struct ChunkPositions {
  std::vector<int> image, iy0, ix0, pixel;  // per column
};

void decode(ChunkPositions& cp, const int* pos, int count, int oh, int ow, const ConvParams& p) {
  const int plane = oh * ow;
  cp.image.resize(count), cp.iy0.resize(count), cp.ix0.resize(count), cp.pixel.resize(count);
  for (int j = 0; j < count; ++j) {
    const int n = pos[j] / plane, pix = pos[j] % plane;
    cp.image[j] = n;
    cp.pixel[j] = pix;
    cp.iy0[j] = (pix / ow) * p.stride - p.padding;
    cp.ix0[j] = (pix % ow) * p.stride - p.padding;
  }
}

// cols [(C/g)*K*K, P] for channels [c0, c0 + C/g): the im2col rows of the
// listed positions only; padding reads as 0.
void gather_columns(float* cols, const Tensor& x, int c0, const ConvParams& p,
                    const ChunkPositions& cp, int count) {
  const int channels = p.in_channels / p.groups, k = p.kernel, h = x.h(), w = x.w();
  const std::size_t plane = x.shape().plane_size();
#pragma omp parallel for collapse(3) schedule(static)
  for (int c = 0; c < channels; ++c)
    for (int ky = 0; ky < k; ++ky)
      for (int kx = 0; kx < k; ++kx) {
        float* row = cols + ((static_cast<std::size_t>(c) * k + ky) * k + kx) * count;
        const int dy = ky * p.dilation, dx = kx * p.dilation;
        for (int j = 0; j < count; ++j) {
          const int iy = cp.iy0[j] + dy, ix = cp.ix0[j] + dx;
          row[j] = (iy >= 0 && iy < h && ix >= 0 && ix < w)
                       ? x.image(cp.image[j])[(c0 + c) * plane + iy * w + ix]
                       : 0.f;
        }
      }
}

}  // namespace

void conv2d_at(Tensor& y, const Tensor& x, const Tensor& weight, const Tensor& bias,
               const ConvParams& p, const std::vector<int>& positions, Workspace& ws,
               bool relu, const float* inv_scale) {
  if (x.c() != p.in_channels) throw std::invalid_argument("conv2d_at: input channels mismatch");
  check_shape(weight, p.weight_shape(), "conv2d_at weight");
  check_shape(y, p.out_shape(x.shape()), "conv2d_at output");
  y.fill(0.f);

  const int m = p.out_channels / p.groups, k = p.col_rows();
  const std::size_t out_plane = y.shape().plane_size();
  const int chunk = static_cast<int>(std::max<std::size_t>(1, kMaxWorkspaceFloats / (k + m)));
  ChunkPositions cp;
  for (std::size_t start = 0; start < positions.size(); start += chunk) {
    const int count = static_cast<int>(std::min<std::size_t>(chunk, positions.size() - start));
    decode(cp, positions.data() + start, count, y.h(), y.w(), p);
    float* cols = ws.columns(static_cast<std::size_t>(k + m) * count);
    float* result = cols + static_cast<std::size_t>(k) * count;  // Yc [m, count]
    for (int g = 0; g < p.groups; ++g) {
      gather_columns(cols, x, g * (p.in_channels / p.groups), p, cp, count);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, count, k, 1.f,
                  weight.data() + static_cast<std::size_t>(g) * m * k, k, cols, count, 0.f,
                  result, count);
#pragma omp parallel for schedule(static)
      for (int o = 0; o < m; ++o) {
        const int oc = g * m + o;
        const float b = bias.empty() ? 0.f : bias.data()[oc];
        const float* src = result + static_cast<std::size_t>(o) * count;
        for (int j = 0; j < count; ++j) {
          float v = src[j] * (inv_scale ? inv_scale[start + j] : 1.f) + b;
          if (relu && v < 0.f) v = 0.f;
          y.image(cp.image[j])[oc * out_plane + cp.pixel[j]] = v;
        }
      }
    }
  }
}

std::vector<float> renorm_inv_scale(const Mask& m, const ConvParams& p,
                                    const std::vector<int>& positions) {
  const int oh = p.out_size(m.h()), ow = p.out_size(m.w()), k = p.kernel;
  std::vector<float> inv(positions.size());
  for (std::size_t j = 0; j < positions.size(); ++j) {
    const int n = positions[j] / (oh * ow), pix = positions[j] % (oh * ow);
    const int y0 = (pix / ow) * p.stride - p.padding, x0 = (pix % ow) * p.stride - p.padding;
    const float* mask = m.image(n);
    float visible = 0.f;
    for (int ky = 0; ky < k; ++ky)
      for (int kx = 0; kx < k; ++kx) {
        const int iy = y0 + ky * p.dilation, ix = x0 + kx * p.dilation;
        if (iy >= 0 && iy < m.h() && ix >= 0 && ix < m.w()) visible += mask[iy * m.w() + ix];
      }
    inv[j] = 1.f / (visible / float(k * k) + 1e-8f);
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
    const double mean_m = visible / double(plane);
#pragma omp parallel for schedule(static)
    for (int c = 0; c < x.c(); ++c) {
      const float* v = x.image(n) + c * plane;
      double sum = 0.0;
      for (std::size_t i = 0; i < plane; ++i) sum += double(v[i]) * mask[i];
      y.image(n)[c] = static_cast<float>(sum / double(plane) / (mean_m + 1e-8));
    }
  }
}

}  // namespace lmask
