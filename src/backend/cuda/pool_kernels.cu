// pool_kernels.cu — max-pool, (masked) global average pool and the fc
// layer's bias on the GPU. Not here: the fc's matrix product (cuBLAS, cuda_net.cpp).
#include <cfloat>

#include "lmask/mask_rules.h"
#include "cuda_error.h"
#include "kernels.h"
#include "launch.cuh"

namespace lmask::backends::cuda {

namespace {

__global__ void maxpool_kernel(float* y, const float* x, int c, int h, int w, int oh, int ow, int k,
                               int stride, int pad, const float* m_out, std::size_t total) {
  LMASK_GRID_STRIDE(i, total) {
    const int ox = int(i % ow), oy = int((i / ow) % oh);
    const std::size_t plane_index = i / (std::size_t(oh) * ow);  // n*C + c
    const float* in = x + plane_index * h * w;
    // Padding positions are skipped, so they never win the max.
    float best = -FLT_MAX;
    bool any = false;
    const int y0 = max(oy * stride - pad, 0), y1 = min(oy * stride - pad + k, h);
    const int x0 = max(ox * stride - pad, 0), x1 = min(ox * stride - pad + k, w);
    for (int iy = y0; iy < y1; ++iy)
      for (int ix = x0; ix < x1; ++ix) best = fmaxf(best, in[iy * w + ix]), any = true;
    float v = any ? best : -INFINITY;
    if (m_out) v *= m_out[(plane_index / c) * oh * ow + oy * ow + ox];
    y[i] = v;
  }
}

// One thread per (image, channel): planes at this point are small (7x7 in
// ResNet-50), and the double sum matches the native op's rounding.
__global__ void avgpool_kernel(float* y, const float* x, const float* m, int n, int c, int plane) {
  LMASK_GRID_STRIDE(i, std::size_t(n) * c) {
    const std::size_t img = i / c;
    const float* v = x + i * plane;
    double sum = 0.0;
    if (!m) {
      for (int p = 0; p < plane; ++p) sum += v[p];
      y[i] = static_cast<float>(sum / plane);
    } else {
      const float* mask = m + img * plane;
      double visible = 0.0;
      for (int p = 0; p < plane; ++p) visible += mask[p], sum += double(v[p]) * mask[p];
      y[i] = static_cast<float>(rules::visible_mean(sum, visible, double(plane)));
    }
  }
}

__global__ void bias_kernel(float* y, const float* bias, int o, std::size_t total) {
  LMASK_GRID_STRIDE(i, total) y[i] += bias[i % o];
}

}  // namespace

void maxpool(float* y, const float* x, int c, const Planes& s, int kernel, int stride, int padding,
             const float* m_out, cudaStream_t stream) {
  const std::size_t total = std::size_t(s.n) * c * s.oh * s.ow;
  maxpool_kernel<<<blocks_for(total), kThreads, 0, stream>>>(y, x, c, s.h, s.w, s.oh, s.ow, kernel, stride,
                                                             padding, m_out, total);
  check_launch("maxpool");
}

void avgpool(float* y, const float* x, const float* m, int n, int c, int plane, cudaStream_t stream) {
  avgpool_kernel<<<blocks_for(std::size_t(n) * c), kThreads, 0, stream>>>(y, x, m, n, c, plane);
  check_launch("avgpool");
}

void add_bias(float* y, const float* bias, int n, int o, cudaStream_t stream) {
  const std::size_t total = std::size_t(n) * o;
  bias_kernel<<<blocks_for(total), kThreads, 0, stream>>>(y, bias, o, total);
  check_launch("add_bias");
}

}  // namespace lmask::backends::cuda
