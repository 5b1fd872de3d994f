// linear.cpp — the fully connected layer as one SGEMM.
#include "lmask/gemm.h"

#include "lmask/ops.h"

namespace lmask {

void linear(Tensor& y, const Tensor& x, const Tensor& weight, const Tensor& bias) {
  const int n = x.n(), in = static_cast<int>(x.shape().image_size()), out = weight.n();
  check_shape(weight, {out, in, 1, 1}, "linear weight");
  if (!bias.empty()) check_shape(bias, {1, out, 1, 1}, "linear bias");
  check_shape(y, {n, out, 1, 1}, "linear output");
  for (int i = 0; i < n; ++i)
    if (bias.empty()) std::fill(y.image(i), y.image(i) + out, 0.f);
    else std::copy(bias.data(), bias.data() + out, y.image(i));
  sgemm(Transpose::no, Transpose::yes, n, out, in, 1.f, x.data(), in,
              weight.data(), in, 1.f, y.data(), out);
}

}  // namespace lmask
