// activations.cpp — the pointwise activations, in place, in PyTorch's float32
// formulas and operation order (aten/src/ATen/native/cpu/Activation.cpp and
// UnaryOpsKernel.cpp), so that non-finite inputs come out as they do there:
// NaN stays NaN, sigmoid(-inf) = 0, and hardswish(-inf) = silu(-inf) = NaN
// (-inf * 0 and -inf / inf). Unlike relu() (elementwise.cpp), which maps NaN
// to 0, Activation::relu keeps it, as torch.relu does. The formulas are
// activation_math.h's, which the CUDA kernels share.
#include <stdexcept>
#include <string>

#include "lmask/activation_math.h"
#include "lmask/kernels.h"
#include "lmask/ops.h"

namespace lmask {

namespace {

// v[i] = f(v[i]) for i < count: the switch on the activation stays outside
// the loop, and f is a lambda (not a function pointer) so it inlines into it.
template <class F>
void map_in_place(float* v, std::size_t count, F f) {
#pragma omp parallel for schedule(static)
  for (std::size_t i = 0; i < count; ++i) v[i] = f(v[i]);
}

}  // namespace

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::relu: return "relu";
    case Activation::relu6: return "relu6";
    case Activation::hardswish: return "hardswish";
    case Activation::hardsigmoid: return "hardsigmoid";
    case Activation::silu: return "silu";
    case Activation::sigmoid: return "sigmoid";
  }
  return "unknown";
}

bool kernels::activate(float* x, std::size_t count, Activation a) {
  namespace f = activation_math;
  switch (a) {
    case Activation::relu: map_in_place(x, count, [](float v) { return f::relu(v); }); return true;
    case Activation::relu6: map_in_place(x, count, [](float v) { return f::relu6(v); }); return true;
    case Activation::hardswish: map_in_place(x, count, [](float v) { return f::hardswish(v); }); return true;
    case Activation::hardsigmoid: map_in_place(x, count, [](float v) { return f::hardsigmoid(v); }); return true;
    case Activation::silu: map_in_place(x, count, [](float v) { return f::silu(v); }); return true;
    case Activation::sigmoid: map_in_place(x, count, [](float v) { return f::sigmoid(v); }); return true;
  }
  return false;
}

void activate(Tensor& x, Activation a) {
  if (!kernels::activate(x.data(), x.numel(), a))
    throw std::invalid_argument("activate: unknown activation " + std::to_string(static_cast<int>(a)));
}

}  // namespace lmask
