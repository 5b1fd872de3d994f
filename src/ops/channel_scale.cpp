// channel_scale.cpp — x * s with one scale per image and channel, broadcast
// over H and W: the product of squeeze-excitation (MobileNetV3, EfficientNet).
#include "lmask/kernels.h"
#include "lmask/ops.h"

namespace lmask {

void kernels::channel_scale(float* x, const float* scale, const Shape& s) {
  const std::size_t plane = s.plane_size();
#pragma omp parallel for collapse(2) schedule(static)
  for (int n = 0; n < s.n; ++n)
    for (int c = 0; c < s.c; ++c) {
      const float k = scale[n * s.c + c];
      float* v = x + (static_cast<std::size_t>(n) * s.c + c) * plane;
      for (std::size_t i = 0; i < plane; ++i) v[i] *= k;
    }
}

void channel_scale(Tensor& x, const Tensor& s) {
  check_shape(s, {x.n(), x.c(), 1, 1}, "channel_scale scale");
  kernels::channel_scale(x.data(), s.data(), x.shape());
}

}  // namespace lmask
