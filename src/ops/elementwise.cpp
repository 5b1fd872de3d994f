// elementwise.cpp — ReLU and the residual add.
#include <stdexcept>

#include "lmask/ops.h"

namespace lmask {

void relu(Tensor& x) {
  float* v = x.data();
  const std::size_t count = x.numel();
#pragma omp parallel for schedule(static)
  for (std::size_t i = 0; i < count; ++i) v[i] = v[i] > 0.f ? v[i] : 0.f;
}

void add(Tensor& y, const Tensor& x, bool relu) {
  check_shape(x, y.shape(), "add operand");
  float* out = y.data();
  const float* in = x.data();
  const std::size_t count = y.numel();
  if (relu) {
#pragma omp parallel for schedule(static)
    for (std::size_t i = 0; i < count; ++i) {
      const float s = out[i] + in[i];
      out[i] = s > 0.f ? s : 0.f;
    }
  } else {
#pragma omp parallel for schedule(static)
    for (std::size_t i = 0; i < count; ++i) out[i] += in[i];
  }
}

}  // namespace lmask
