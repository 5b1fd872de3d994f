// graph_cases.h — building blocks of the one-layer graphs the backend tests
// run on every backend (test_backend.cpp, test_backend_cuda.cpp).
#pragma once

#include <cmath>
#include <cstdint>

#include "lmask/backend.h"
#include "reference_ops.h"

namespace lmask::testing {

// Weights of a layer with `fan_in` inputs per output, scaled to keep outputs O(1).
inline Tensor weights_for(Shape shape, int fan_in, std::uint32_t seed) {
  const float s = 1.f / std::sqrt(static_cast<float>(fan_in));
  return random_tensor(shape, seed, -s, s);
}

// A conv layer reading activation `src` (and adding `residual` when >= 0);
// w and b are not owned.
inline Layer conv_layer(const ConvParams& p, int src, const Tensor& w, const Tensor* b, bool relu,
                        int residual = -1) {
  Layer l;
  l.op = Layer::Op::conv;
  l.src = src, l.residual = residual, l.relu = relu;
  l.conv = p;
  l.weight = &w;
  l.bias = b;
  return l;
}

}  // namespace lmask::testing
