// conv_kernels.cu — the convolution's data movement around cuBLAS SGEMM:
// im2col for the dense path, a gather of the visible outputs' windows for
// the active-region path, and the epilogues that add the bias, the residual
// and the activation (dense, in place) or scatter the visible results back.
// Not here: the matrix products (cuda_conv.cpp) and the masks (mask_kernels.cu).
#include "cuda_error.h"
#include "kernels.h"
#include "launch.cuh"
#include "post_activation.cuh"

namespace lmask::backends::cuda {

namespace {

// The value at input (iy, ix) of one channel plane, 0 outside it (padding).
__device__ inline float pixel(const float* plane, int iy, int ix, int h, int w) {
  return (iy >= 0 && iy < h && ix >= 0 && ix < w) ? plane[iy * w + ix] : 0.f;
}

// One thread per (image, row, output pixel); pix fastest so writes coalesce.
__global__ void im2col_kernel(float* cols, const float* x, int images, int channels, int c0, int cg,
                              int h, int w, int oh, int ow, int k, int stride, int pad, int dil) {
  const std::size_t plane_out = std::size_t(oh) * ow, rows = std::size_t(cg) * k * k;
  const std::size_t total = std::size_t(images) * rows * plane_out;
  LMASK_GRID_STRIDE(i, total) {
    const int pix = int(i % plane_out);
    const std::size_t r = (i / plane_out) % rows;
    const int img = int(i / (plane_out * rows));
    const int kx = int(r % k), ky = int((r / k) % k), c = int(r / (std::size_t(k) * k));
    const int oy = pix / ow, ox = pix % ow;
    const float* src = x + (std::size_t(img) * channels + c0 + c) * h * w;
    cols[i] = pixel(src, oy * stride - pad + ky * dil, ox * stride - pad + kx * dil, h, w);
  }
}

// One thread per (row, column); the column index is fastest.
__global__ void gather_kernel(float* cols, const float* x, const int* positions, int count,
                              int channels, int c0, int cg, int h, int w, int oh, int ow, int k,
                              int stride, int pad, int dil) {
  const std::size_t rows = std::size_t(cg) * k * k, total = rows * count;
  const int plane_out = oh * ow;
  LMASK_GRID_STRIDE(i, total) {
    const int j = int(i % count);
    const std::size_t r = i / count;
    const int kx = int(r % k), ky = int((r / k) % k), c = int(r / (std::size_t(k) * k));
    const int pos = positions[j], n = pos / plane_out, pix = pos % plane_out;
    const int oy = pix / ow, ox = pix % ow;
    const float* src = x + (std::size_t(n) * channels + c0 + c) * h * w;
    cols[i] = pixel(src, oy * stride - pad + ky * dil, ox * stride - pad + kx * dil, h, w);
  }
}

__global__ void epilogue_kernel(float* y, const float* bias, const float* residual,
                                const float* inv_scale, int n, int o, int plane, PostActivation act) {
  const std::size_t total = std::size_t(n) * o * plane;
  LMASK_GRID_STRIDE(i, total) {
    const int pix = int(i % plane);
    const std::size_t no = i / plane;
    const int oc = int(no % o), img = int(no / o);
    float v = y[i];
    if (inv_scale) v *= inv_scale[std::size_t(img) * plane + pix];
    if (bias) v += bias[oc];
    if (residual) v += residual[i];
    y[i] = post(act, v);
  }
}

__global__ void scatter_kernel(float* y, const float* yc, const int* positions, int count, int m,
                               int oc0, int out_channels, int plane, const float* bias,
                               const float* inv_scale, PostActivation act) {
  const std::size_t total = std::size_t(m) * count;
  LMASK_GRID_STRIDE(i, total) {
    const int j = int(i % count), o = int(i / count), oc = oc0 + o;
    const int pos = positions[j], n = pos / plane, pix = pos % plane;
    float v = yc[i];
    if (inv_scale) v *= inv_scale[j];
    if (bias) v += bias[oc];
    y[(std::size_t(n) * out_channels + oc) * plane + pix] = post(act, v);
  }
}

}  // namespace

void im2col(float* cols, const float* x, int images, int channels, int c0, const Planes& s,
            const ConvParams& p, cudaStream_t stream) {
  const int cg = p.in_channels / p.groups;
  const std::size_t total = std::size_t(images) * cg * p.kernel * p.kernel * s.oh * s.ow;
  im2col_kernel<<<blocks_for(total), kThreads, 0, stream>>>(cols, x, images, channels, c0, cg, s.h, s.w,
                                                            s.oh, s.ow, p.kernel, p.stride, p.padding,
                                                            p.dilation);
  check_launch("im2col");
}

void gather_columns(float* cols, const float* x, const int* positions, int count, int channels,
                    int c0, const Planes& s, const ConvParams& p, cudaStream_t stream) {
  const int cg = p.in_channels / p.groups;
  const std::size_t total = std::size_t(cg) * p.kernel * p.kernel * count;
  gather_kernel<<<blocks_for(total), kThreads, 0, stream>>>(cols, x, positions, count, channels, c0, cg,
                                                            s.h, s.w, s.oh, s.ow, p.kernel, p.stride,
                                                            p.padding, p.dilation);
  check_launch("gather_columns");
}

void conv_epilogue(float* y, const float* bias, const float* residual, const float* inv_scale,
                   int n, int o, int plane, PostActivation act, cudaStream_t stream) {
  const std::size_t total = std::size_t(n) * o * plane;
  epilogue_kernel<<<blocks_for(total), kThreads, 0, stream>>>(y, bias, residual, inv_scale, n, o, plane, act);
  check_launch("conv_epilogue");
}

void conv_scatter(float* y, const float* yc, const int* positions, int count, int m, int oc0,
                  int out_channels, int plane, const float* bias, const float* inv_scale,
                  PostActivation act, cudaStream_t stream) {
  const std::size_t total = std::size_t(m) * count;
  scatter_kernel<<<blocks_for(total), kThreads, 0, stream>>>(y, yc, positions, count, m, oc0,
                                                             out_channels, plane, bias, inv_scale, act);
  check_launch("conv_scatter");
}

}  // namespace lmask::backends::cuda
