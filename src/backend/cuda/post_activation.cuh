// post_activation.cuh — a kernel's last step on a value, PostActivation
// (kernels.h) on the device: the formulas are activation_math.h's, the
// native loops' own (private to the .cu files).
#pragma once

#include "kernels.h"
#include "lmask/activation_math.h"

namespace lmask::backends::cuda {

// `act` is the same for every thread of a launch, so the switch inside
// apply() does not diverge.
__device__ inline float post(PostActivation act, float v) {
  return act.on ? activation_math::apply(act.f, v) : v;
}

}  // namespace lmask::backends::cuda
