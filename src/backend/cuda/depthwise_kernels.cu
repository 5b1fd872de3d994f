// depthwise_kernels.cu — the depthwise convolution (groups = in_channels,
// MobileNetV3's and EfficientNet's 3x3 and 5x5 per-channel convs) as a
// direct kernel with its epilogue fused. Through cuBLAS it would be one
// product of a single row per channel and image chunk: hundreds of tiny
// launches per layer. Not here: every other conv (conv_kernels.cu + cuBLAS).
#include "cuda_error.h"
#include "kernels.h"
#include "launch.cuh"
#include "post_activation.cuh"

namespace lmask::backends::cuda {

namespace {

// The k x k window of output (oy, ox) over one input plane `in` [H,W]
// with one channel's weights `w` [K,K]; padding reads 0. Taps in the
// order of an im2col row (ky, then kx).
__device__ inline float window_sum(const float* in, const float* w, int oy, int ox, int h, int width, int k,
                                   int stride, int pad, int dil) {
  float sum = 0.f;
  for (int ky = 0; ky < k; ++ky) {
    const int iy = oy * stride - pad + ky * dil;
    if (iy < 0 || iy >= h) continue;
    for (int kx = 0; kx < k; ++kx) {
      const int ix = ox * stride - pad + kx * dil;
      if (ix >= 0 && ix < width) sum += in[iy * width + ix] * w[ky * k + kx];
    }
  }
  return sum;
}

struct Depthwise {
  int in_channels, out_channels, h, w, oh, ow, k, stride, pad, dil;
  __device__ int in_of(int oc) const { return oc / (out_channels / in_channels); }  // the input channel oc reads
};

Depthwise depthwise_of(const Planes& s, const ConvParams& p) {
  return {p.in_channels, p.out_channels, s.h, s.w, s.oh, s.ow, p.kernel, p.stride, p.padding, p.dilation};
}

// One thread per output, ox fastest so writes coalesce.
__global__ void depthwise_kernel(float* y, const float* x, const float* weight, const float* bias,
                                 const float* residual, const float* inv_scale, Depthwise d, int n,
                                 PostActivation act) {
  const std::size_t plane = std::size_t(d.oh) * d.ow, total = std::size_t(n) * d.out_channels * plane;
  LMASK_GRID_STRIDE(i, total) {
    const int pix = int(i % plane), oc = int((i / plane) % d.out_channels);
    const std::size_t img = i / (plane * d.out_channels);
    const float* in = x + (img * d.in_channels + d.in_of(oc)) * d.h * d.w;
    float v = window_sum(in, weight + std::size_t(oc) * d.k * d.k, pix / d.ow, pix % d.ow, d.h, d.w, d.k,
                         d.stride, d.pad, d.dil);
    if (inv_scale) v *= inv_scale[img * plane + pix];
    if (bias) v += bias[oc];
    if (residual) v += residual[i];
    y[i] = post(act, v);
  }
}

// One thread per (output channel, listed position), the position fastest.
__global__ void depthwise_at_kernel(float* y, const float* x, const float* weight, const float* bias,
                                    const int* positions, int count, const float* inv_scale, Depthwise d,
                                    PostActivation act) {
  const int plane = d.oh * d.ow;
  LMASK_GRID_STRIDE(i, std::size_t(d.out_channels) * count) {
    const int j = int(i % count), oc = int(i / count);
    const int pos = positions[j], img = pos / plane, pix = pos % plane;
    const float* in = x + (std::size_t(img) * d.in_channels + d.in_of(oc)) * d.h * d.w;
    float v = window_sum(in, weight + std::size_t(oc) * d.k * d.k, pix / d.ow, pix % d.ow, d.h, d.w, d.k,
                         d.stride, d.pad, d.dil);
    if (inv_scale) v *= inv_scale[j];
    if (bias) v += bias[oc];
    y[(std::size_t(img) * d.out_channels + oc) * plane + pix] = post(act, v);
  }
}

}  // namespace

void depthwise_conv(float* y, const float* x, const float* weight, const float* bias, const float* residual,
                    const float* inv_scale, const Planes& s, const ConvParams& p, PostActivation act,
                    cudaStream_t stream) {
  const std::size_t total = std::size_t(s.n) * p.out_channels * s.oh * s.ow;
  depthwise_kernel<<<blocks_for(total), kThreads, 0, stream>>>(y, x, weight, bias, residual, inv_scale,
                                                               depthwise_of(s, p), s.n, act);
  check_launch("depthwise_conv");
}

void depthwise_conv_at(float* y, const float* x, const float* weight, const float* bias, const int* positions,
                       int count, const float* inv_scale, const Planes& s, const ConvParams& p,
                       PostActivation act, cudaStream_t stream) {
  if (count == 0) return;
  const std::size_t total = std::size_t(p.out_channels) * count;
  depthwise_at_kernel<<<blocks_for(total), kThreads, 0, stream>>>(y, x, weight, bias, positions, count, inv_scale,
                                                                  depthwise_of(s, p), act);
  check_launch("depthwise_conv_at");
}

}  // namespace lmask::backends::cuda
