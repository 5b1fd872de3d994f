// masked_residual.cpp — the bottleneck residual join of layer masking,
// y = relu((o + i) * m) * m, in one pass over the activations.
#include "lmask/masked_ops.h"

namespace lmask {

void masked_add_relu(Tensor& y, const Tensor& x, const Mask& m) {
  check_shape(x, y.shape(), "masked_add_relu operand");
  check_shape(m.tensor(), {y.n(), 1, y.h(), y.w()}, "masked_add_relu mask");
  const int planes = y.n() * y.c();
  const std::size_t plane = y.shape().plane_size();
#pragma omp parallel for schedule(static)
  for (int nc = 0; nc < planes; ++nc) {
    float* out = y.data() + nc * plane;
    const float* in = x.data() + nc * plane;
    const float* visible = m.image(nc / y.c());
    for (std::size_t i = 0; i < plane; ++i) {
      const float s = out[i] + in[i];
      out[i] = visible[i] != 0.f && s > 0.f ? s : 0.f;
    }
  }
}

}  // namespace lmask
