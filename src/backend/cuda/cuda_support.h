// cuda_support.h — which nodes the CUDA backend has kernels for (private to
// the CUDA backend): conv2d (with a fused residual add and ReLU), ReLU,
// add, max-pool without ceil_mode, global average pooling (and adaptive to
// 1x1), linear, flatten and identity. The rest is refused up front, not
// halfway through a run.
#pragma once

#include "lmask/graph.h"

namespace lmask::backends::cuda {

// Throws Unsupported ("cuda: graph node 5 (batchnorm 'bn1'): the op is not
// implemented on this backend") for the first node of `fused` it cannot run.
void check_supported(const Graph& fused);

}  // namespace lmask::backends::cuda
