// channel_scale.cpp — x * s with one scale per image and channel, broadcast
// over H and W: the product of squeeze-excitation (MobileNetV3, EfficientNet).
#include "lmask/ops.h"

namespace lmask {

void channel_scale(Tensor& x, const Tensor& s) {
  check_shape(s, {x.n(), x.c(), 1, 1}, "channel_scale scale");
  const std::size_t plane = x.shape().plane_size();
  const float* scale = s.data();
#pragma omp parallel for collapse(2) schedule(static)
  for (int n = 0; n < x.n(); ++n)
    for (int c = 0; c < x.c(); ++c) {
      const float k = scale[n * x.c() + c];
      float* v = x.image(n) + c * plane;
      for (std::size_t i = 0; i < plane; ++i) v[i] *= k;
    }
}

}  // namespace lmask
