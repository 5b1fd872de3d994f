// elementwise.cpp — ReLU and the residual add.
#include <stdexcept>

#include "lmask/kernels.h"
#include "lmask/ops.h"

namespace lmask {

void relu(Tensor& x) {
  float* v = x.data();
  const std::size_t count = x.numel();
#pragma omp parallel for schedule(static)
  for (std::size_t i = 0; i < count; ++i) v[i] = v[i] > 0.f ? v[i] : 0.f;
}

void kernels::add(float* y, const float* x, std::size_t count, bool relu) {
  if (relu) {
#pragma omp parallel for schedule(static)
    for (std::size_t i = 0; i < count; ++i) {
      const float s = y[i] + x[i];
      y[i] = s > 0.f ? s : 0.f;
    }
  } else {
#pragma omp parallel for schedule(static)
    for (std::size_t i = 0; i < count; ++i) y[i] += x[i];
  }
}

void add(Tensor& y, const Tensor& x, bool relu) {
  check_shape(x, y.shape(), "add operand");
  kernels::add(y.data(), x.data(), y.numel(), relu);
}

}  // namespace lmask
