// mask_kernels.cu — layer masking on the GPU (spec: shared/spec/LAYER_MASKING.md):
// a mask's resolution change through a window op or adaptive bins, concat's
// majority, the residual join, the neighbour-average fill one step at a
// time, the visible outputs as an ordered list of positions, and partial
// convolution's divisor.
// Not here: the convolution itself (conv_kernels.cu, cuda_conv.cpp).
#include <cub/device/device_select.cuh>
#include <thrust/iterator/counting_iterator.h>

#include "lmask/mask_rules.h"
#include "cuda_error.h"
#include "kernels.h"
#include "launch.cuh"

namespace lmask::backends::cuda {

namespace {


__global__ void pool_mask_kernel(float* out, const float* in, int n, int h, int w, int oh, int ow,
                                 int k, int stride, int pad, int dil) {
  const std::size_t total = std::size_t(n) * oh * ow;
  LMASK_GRID_STRIDE(i, total) {
    const int ox = int(i % ow), oy = int((i / ow) % oh), img = int(i / (std::size_t(ow) * oh));
    const float* m = in + std::size_t(img) * h * w;
    float v = 0.f;
    for (int ky = 0; ky < k && v == 0.f; ++ky) {
      const int iy = oy * stride - pad + ky * dil;
      if (iy < 0 || iy >= h) continue;
      for (int kx = 0; kx < k; ++kx) {
        const int ix = ox * stride - pad + kx * dil;
        if (ix >= 0 && ix < w && m[iy * w + ix] != 0.f) {
          v = 1.f;
          break;
        }
      }
    }
    out[i] = v;
  }
}

// One thread per bin: visible iff it holds a visible input (kernels::bins_any).
__global__ void bins_kernel(float* out, const float* in, int h, int w, int size, std::size_t total) {
  LMASK_GRID_STRIDE(i, total) {
    const int ox = int(i % size), oy = int((i / size) % size);
    const float* m = in + (i / (std::size_t(size) * size)) * h * w;
    const int y0 = adaptive_bin_begin(oy, h, size), y1 = adaptive_bin_end(oy, h, size);
    const int x0 = adaptive_bin_begin(ox, w, size), x1 = adaptive_bin_end(ox, w, size);
    bool any = false;
    for (int y = y0; y < y1 && !any; ++y)
      for (int x = x0; x < x1 && !any; ++x) any = m[y * w + x] != 0.f;
    out[i] = any ? 1.f : 0.f;
  }
}

// out counts visible inputs as floats (exact up to 2^24 inputs), so the
// majority needs no buffer besides the mask it ends in.
__global__ void count_visible_kernel(float* out, const float* m, std::size_t count) {
  LMASK_GRID_STRIDE(i, count) out[i] += m[i] != 0.f ? 1.f : 0.f;
}

__global__ void majority_kernel(float* out, int inputs, std::size_t count) {
  LMASK_GRID_STRIDE(i, count) out[i] = rules::majority_visible(int(out[i]), inputs);
}

__global__ void product_kernel(float* out, const float* a, const float* b, std::size_t count) {
  LMASK_GRID_STRIDE(i, count) out[i] = a[i] * b[i];
}

__global__ void apply_mask_kernel(float* x, const float* m, int c, int plane, std::size_t total) {
  LMASK_GRID_STRIDE(i, total) {
    const std::size_t pix = i % plane, img = i / (std::size_t(plane) * c);
    x[i] *= m[img * plane + pix];
  }
}

__global__ void fill_step_kernel(float* x_out, float* r_out, const float* x_in, const float* r_in,
                                 int c, int h, int w, std::size_t total) {
  const std::size_t plane = std::size_t(h) * w;
  LMASK_GRID_STRIDE(i, total) {
    const int pix = int(i % plane), y = pix / w, x = pix % w;
    const int ch = int((i / plane) % c);
    const std::size_t img = i / (plane * c);
    const float* r = r_in + img * plane;
    const float den = rules::box3_at(r, y, x, h, w);
    // Known values never change; an unknown one becomes the average of its
    // known neighbours (unknown ones hold 0), or stays 0 without any.
    x_out[i] = r[pix] != 0.f ? x_in[i] : rules::fill_value(rules::box3_at(x_in + (i - pix), y, x, h, w), den);
    if (ch == 0) r_out[img * plane + pix] = fminf(r[pix] + den, 1.f);
  }
}

struct IsVisible {
  __device__ bool operator()(float v) const { return v != 0.f; }
};

__global__ void renorm_kernel(float* inv, const float* m, const int* positions, int count, int h,
                              int w, int oh, int ow, int k, int stride, int pad, int dil) {
  LMASK_GRID_STRIDE(j, std::size_t(count)) {
    const int pos = positions ? positions[j] : int(j);
    const int img = pos / (oh * ow), pix = pos % (oh * ow);
    const int y0 = (pix / ow) * stride - pad, x0 = (pix % ow) * stride - pad;
    const float* mask = m + std::size_t(img) * h * w;
    float visible = 0.f;
    for (int ky = 0; ky < k; ++ky)
      for (int kx = 0; kx < k; ++kx) {
        const int iy = y0 + ky * dil, ix = x0 + kx * dil;
        if (iy >= 0 && iy < h && ix >= 0 && ix < w) visible += mask[iy * w + ix];
      }
    inv[j] = rules::renorm_inv_scale(visible, k);
  }
}

__global__ void join_kernel(float* y, const float* identity, const float* m, int c, int plane,
                            bool relu, std::size_t total) {
  LMASK_GRID_STRIDE(i, total) {
    const std::size_t pix = i % plane, img = i / (std::size_t(plane) * c);
    const float mask = m[img * plane + pix];
    float v = (y[i] + identity[i]) * mask;
    if (relu && v < 0.f) v = 0.f;
    y[i] = v * mask;
  }
}

}  // namespace

void pool_mask(float* out, const float* in, const Planes& s, int kernel, int stride, int padding,
               int dilation, cudaStream_t stream) {
  const std::size_t total = std::size_t(s.n) * s.oh * s.ow;
  pool_mask_kernel<<<blocks_for(total), kThreads, 0, stream>>>(out, in, s.n, s.h, s.w, s.oh, s.ow, kernel,
                                                               stride, padding, dilation);
  check_launch("pool_mask");
}

void bins_mask(float* out, const float* m, int n, int h, int w, int size, cudaStream_t stream) {
  const std::size_t total = std::size_t(n) * size * size;
  bins_kernel<<<blocks_for(total), kThreads, 0, stream>>>(out, m, h, w, size, total);
  check_launch("bins_mask");
}

void count_visible(float* out, const float* m, std::size_t count, cudaStream_t stream) {
  count_visible_kernel<<<blocks_for(count), kThreads, 0, stream>>>(out, m, count);
  check_launch("count_visible");
}

void majority_of(float* out, int inputs, std::size_t count, cudaStream_t stream) {
  majority_kernel<<<blocks_for(count), kThreads, 0, stream>>>(out, inputs, count);
  check_launch("majority_of");
}

void mask_product(float* out, const float* a, const float* b, std::size_t count, cudaStream_t stream) {
  product_kernel<<<blocks_for(count), kThreads, 0, stream>>>(out, a, b, count);
  check_launch("mask_product");
}

void apply_mask(float* x, const float* m, int n, int c, int plane, cudaStream_t stream) {
  const std::size_t total = std::size_t(n) * c * plane;
  apply_mask_kernel<<<blocks_for(total), kThreads, 0, stream>>>(x, m, c, plane, total);
  check_launch("apply_mask");
}

void fill_step(float* x_out, float* r_out, const float* x_in, const float* r_in, int n, int c,
               int h, int w, cudaStream_t stream) {
  const std::size_t total = std::size_t(n) * c * h * w;
  fill_step_kernel<<<blocks_for(total), kThreads, 0, stream>>>(x_out, r_out, x_in, r_in, c, h, w, total);
  check_launch("fill_step");
}

std::size_t visible_positions_scratch(std::size_t count) {
  std::size_t bytes = 0;
  check(cub::DeviceSelect::FlaggedIf(nullptr, bytes, thrust::counting_iterator<int>(0),
                                     static_cast<const float*>(nullptr), static_cast<int*>(nullptr),
                                     static_cast<int*>(nullptr), static_cast<std::int64_t>(count),
                                     IsVisible{}),
        "cub::DeviceSelect::FlaggedIf (size)");
  return bytes;
}

void visible_positions(int* positions, int* visible, const float* m, std::size_t count,
                       void* scratch, std::size_t scratch_bytes, cudaStream_t stream) {
  check(cub::DeviceSelect::FlaggedIf(scratch, scratch_bytes, thrust::counting_iterator<int>(0), m,
                                     positions, visible, static_cast<std::int64_t>(count), IsVisible{},
                                     stream),
        "cub::DeviceSelect::FlaggedIf");
}

void renorm_scale(float* inv, const float* m, const int* positions, int count, const Planes& s,
                  const ConvParams& p, cudaStream_t stream) {
  renorm_kernel<<<blocks_for(count), kThreads, 0, stream>>>(inv, m, positions, count, s.h, s.w, s.oh, s.ow,
                                                            p.kernel, p.stride, p.padding, p.dilation);
  check_launch("renorm_scale");
}

void residual_join(float* y, const float* identity, const float* m, int n, int c, int plane,
                   bool relu, cudaStream_t stream) {
  const std::size_t total = std::size_t(n) * c * plane;
  join_kernel<<<blocks_for(total), kThreads, 0, stream>>>(y, identity, m, c, plane, relu, total);
  check_launch("residual_join");
}

}  // namespace lmask::backends::cuda
