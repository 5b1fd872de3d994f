// avgpool_kernels.cu — average pooling over windows and over adaptive bins:
// DenseNet's 2x2/2 transitions (AvgPool2d with PyTorch's ceil_mode and
// count_include_pad) and AdaptiveAvgPool2d to S x S, clean and under layer
// masking. The loops mirror kernels::avgpool and kernels::
// (masked_)adaptive_avgpool (include/lmask/kernels.h, src/ops), each sum in
// double as there. Not here: the global pool of a whole plane, which has
// one thread per plane (pool_kernels.cu).
#include "cuda_error.h"
#include "kernels.h"
#include "launch.cuh"
#include "lmask/mask_rules.h"

namespace lmask::backends::cuda {

namespace {

// One thread per output; per axis the window starts at o*s - p and ends at
// min(start + k, in + p), clipped to the padded input (in ceil mode a
// window hanging past it is shorter). Its length there is the
// count_include_pad divisor; the sum runs over the window clipped to the
// image, whose size is the other divisor. Never 0: every window keeps part
// of the image (PoolParams::out_size).
__global__ void avgpool_window_kernel(float* y, const float* x, int c, int h, int w, int oh, int ow,
                                      PoolParams p, const float* m_out, std::size_t total) {
  LMASK_GRID_STRIDE(i, total) {
    const int ox = int(i % ow), oy = int((i / ow) % oh);
    const std::size_t plane_index = i / (std::size_t(oh) * ow);  // n*C + c
    const float* in = x + plane_index * h * w;
    const int ys = oy * p.stride - p.padding, ye = min(ys + p.kernel, h + p.padding);
    const int xs = ox * p.stride - p.padding, xe = min(xs + p.kernel, w + p.padding);
    const int y0 = max(ys, 0), y1 = min(ye, h), x0 = max(xs, 0), x1 = min(xe, w);
    const int divisor = p.count_include_pad ? (ye - ys) * (xe - xs) : (y1 - y0) * (x1 - x0);
    double sum = 0.0;
    for (int iy = y0; iy < y1; ++iy)
      for (int ix = x0; ix < x1; ++ix) sum += in[iy * w + ix];
    float v = static_cast<float>(sum / divisor);
    if (m_out) v *= m_out[(plane_index / c) * oh * ow + oy * ow + ox];
    y[i] = v;
  }
}

// One thread per output bin; bins as PyTorch places them (ops.h).
__global__ void adaptive_kernel(float* y, const float* x, const float* m, int c, int h, int w, int size,
                                std::size_t total) {
  LMASK_GRID_STRIDE(i, total) {
    const int ox = int(i % size), oy = int((i / size) % size);
    const std::size_t plane_index = i / (std::size_t(size) * size);  // n*C + c
    const float* in = x + plane_index * h * w;
    const int y0 = adaptive_bin_begin(oy, h, size), y1 = adaptive_bin_end(oy, h, size);
    const int x0 = adaptive_bin_begin(ox, w, size), x1 = adaptive_bin_end(ox, w, size);
    const double bin = double(y1 - y0) * (x1 - x0);
    double sum = 0.0;
    if (!m) {
      for (int iy = y0; iy < y1; ++iy)
        for (int ix = x0; ix < x1; ++ix) sum += in[iy * w + ix];
      y[i] = static_cast<float>(sum / bin);
    } else {  // vismean over the bin
      const float* mask = m + (plane_index / c) * h * w;
      double visible = 0.0;
      for (int iy = y0; iy < y1; ++iy)
        for (int ix = x0; ix < x1; ++ix) {
          const float mv = mask[iy * w + ix];
          sum += double(in[iy * w + ix]) * mv, visible += mv;
        }
      y[i] = static_cast<float>(rules::visible_mean(sum, visible, bin));
    }
  }
}

}  // namespace

void avgpool_window(float* y, const float* x, int c, const Planes& s, const PoolParams& p, const float* m_out,
                    cudaStream_t stream) {
  const std::size_t total = std::size_t(s.n) * c * s.oh * s.ow;
  avgpool_window_kernel<<<blocks_for(total), kThreads, 0, stream>>>(y, x, c, s.h, s.w, s.oh, s.ow, p, m_out,
                                                                    total);
  check_launch("avgpool_window");
}

void adaptive_avgpool(float* y, const float* x, const float* m, int n, int c, int h, int w, int size,
                      cudaStream_t stream) {
  const std::size_t total = std::size_t(n) * c * size * size;
  adaptive_kernel<<<blocks_for(total), kThreads, 0, stream>>>(y, x, m, c, h, w, size, total);
  check_launch("adaptive_avgpool");
}

}  // namespace lmask::backends::cuda
