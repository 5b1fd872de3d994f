// pointwise_kernels.cu — the ops that read each value at its own position,
// in place: the activations, BatchNorm (the standalone ones DenseNet keeps
// before its convs; the others are folded into a conv) and the
// squeeze-excitation product. Under layer masking each is the clean op
// (masked_forward.h remasks after them where the rule asks).
#include "cuda_error.h"
#include "kernels.h"
#include "launch.cuh"
#include "lmask/activation_math.h"

namespace lmask::backends::cuda {

namespace {

__global__ void activate_kernel(float* x, std::size_t count, Activation f) {
  LMASK_GRID_STRIDE(i, count) x[i] = activation_math::apply(f, x[i]);
}

__global__ void batchnorm_kernel(float* x, const float* scale, const float* shift, int c, int plane,
                                 std::size_t total) {
  LMASK_GRID_STRIDE(i, total) {
    const int ch = int((i / plane) % c);
    x[i] = x[i] * scale[ch] + shift[ch];
  }
}

// s is [N,C]: one factor per plane of x.
__global__ void channel_scale_kernel(float* x, const float* s, int plane, std::size_t total) {
  LMASK_GRID_STRIDE(i, total) x[i] *= s[i / plane];
}

}  // namespace

void activate(float* x, std::size_t count, Activation f, cudaStream_t stream) {
  activate_kernel<<<blocks_for(count), kThreads, 0, stream>>>(x, count, f);
  check_launch("activate");
}

void batchnorm(float* x, const float* scale, const float* shift, int n, int c, int plane, cudaStream_t stream) {
  const std::size_t total = std::size_t(n) * c * plane;
  batchnorm_kernel<<<blocks_for(total), kThreads, 0, stream>>>(x, scale, shift, c, plane, total);
  check_launch("batchnorm");
}

void channel_scale(float* x, const float* s, int n, int c, int plane, cudaStream_t stream) {
  const std::size_t total = std::size_t(n) * c * plane;
  channel_scale_kernel<<<blocks_for(total), kThreads, 0, stream>>>(x, s, plane, total);
  check_launch("channel_scale");
}

}  // namespace lmask::backends::cuda
