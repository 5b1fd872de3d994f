// batchnorm.cpp — eval-mode BatchNorm and its folding into a conv.
#include <cmath>

#include "lmask/kernels.h"
#include "lmask/ops.h"

namespace lmask {

void kernels::batchnorm(float* x, const Shape& s, const BatchNormParams& bn) {
  const std::size_t plane = s.plane_size();
#pragma omp parallel for collapse(2) schedule(static)
  for (int n = 0; n < s.n; ++n)
    for (int c = 0; c < s.c; ++c) {
      const float scale = bn.gamma.data()[c] / std::sqrt(bn.var.data()[c] + bn.eps);
      const float shift = bn.beta.data()[c] - bn.mean.data()[c] * scale;
      float* v = x + (static_cast<std::size_t>(n) * s.c + c) * plane;
      for (std::size_t i = 0; i < plane; ++i) v[i] = v[i] * scale + shift;
    }
}

void batchnorm(Tensor& x, const BatchNormParams& bn) {
  check_shape(bn.gamma, {1, x.c(), 1, 1}, "batchnorm gamma");
  kernels::batchnorm(x.data(), x.shape(), bn);
}

void fold_batchnorm(Tensor& weight, Tensor& bias, const BatchNormParams& bn) {
  const int out = weight.n();
  const std::size_t per_out = weight.shape().image_size();
  check_shape(bn.gamma, {1, out, 1, 1}, "fold_batchnorm gamma");
  Tensor folded_bias({1, out, 1, 1});
  for (int o = 0; o < out; ++o) {
    // In double: the folded weights should differ from BN-after-conv only by
    // float rounding of the final product.
    const double scale = double(bn.gamma.data()[o]) / std::sqrt(double(bn.var.data()[o]) + bn.eps);
    const double old_bias = bias.empty() ? 0.0 : bias.data()[o];
    float* w = weight.data() + o * per_out;
    for (std::size_t i = 0; i < per_out; ++i) w[i] = static_cast<float>(w[i] * scale);
    folded_bias.data()[o] =
        static_cast<float>(bn.beta.data()[o] + (old_bias - bn.mean.data()[o]) * scale);
  }
  bias = folded_bias;
}

}  // namespace lmask
