// graph_cases.h — building blocks of the small graphs the backend tests run
// on every backend (test_backend.cpp, test_backend_cuda.cpp).
#pragma once

#include <cmath>
#include <cstdint>

#include "lmask/graph.h"
#include "reference_ops.h"

namespace lmask::testing {

// Weights of a layer with `fan_in` inputs per output, scaled to keep outputs O(1).
inline Tensor weights_for(Shape shape, int fan_in, std::uint32_t seed) {
  const float s = 1.f / std::sqrt(static_cast<float>(fan_in));
  return random_tensor(shape, seed, -s, s);
}

// A conv node reading `src`, its weights shared (b may be empty); returns its id.
inline int add_conv(Graph& g, int src, const ConvParams& p, const Tensor& w, const Tensor& b) {
  Node conv(Op::conv2d, {src}, "conv");
  conv.conv = p, conv.weight = w, conv.bias = b;
  return g.add(conv);
}

inline int add_relu(Graph& g, int src) {
  Node relu(Op::activation, {src}, "relu");
  relu.activation = Activation::relu;
  return g.add(relu);
}

}  // namespace lmask::testing
