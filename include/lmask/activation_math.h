// activation_math.h — the pointwise activations of ops.h as scalar
// formulas, written once for the native loops (src/ops/activations.cpp)
// and the CUDA kernels: PyTorch's float32 formulas in its order of
// operations, so non-finite inputs come out as they do there (NaN stays
// NaN; sigmoid(-inf) = 0; hardswish(-inf) = silu(-inf) = NaN).
#pragma once

#include <math.h>  // expf, for host and device alike

#include "lmask/host_device.h"
#include "lmask/ops.h"

namespace lmask::activation_math {

// Comparisons with NaN are false, so each of these keeps NaN.
LMASK_HOST_DEVICE inline float relu(float v) { return v < 0.f ? 0.f : v; }
LMASK_HOST_DEVICE inline float relu6(float v) { return v < 0.f ? 0.f : (v > 6.f ? 6.f : v); }
LMASK_HOST_DEVICE inline float hardswish(float v) { return v * relu6(v + 3.f) / 6.f; }
LMASK_HOST_DEVICE inline float hardsigmoid(float v) { return relu6(v + 3.f) / 6.f; }
LMASK_HOST_DEVICE inline float silu(float v) { return v / (1.f + expf(-v)); }
LMASK_HOST_DEVICE inline float sigmoid(float v) { return 1.f / (1.f + expf(-v)); }

// f(v) for any Activation; v itself for a value the enum does not name.
LMASK_HOST_DEVICE inline float apply(Activation f, float v) {
  switch (f) {
    case Activation::relu: return relu(v);
    case Activation::relu6: return relu6(v);
    case Activation::hardswish: return hardswish(v);
    case Activation::hardsigmoid: return hardsigmoid(v);
    case Activation::silu: return silu(v);
    case Activation::sigmoid: return sigmoid(v);
  }
  return v;
}

}  // namespace lmask::activation_math
