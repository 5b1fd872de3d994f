// cuda_support.h — which nodes the CUDA backend has kernels for (private to
// the CUDA backend): every op of graph.h, clean and layer-masked — conv2d
// (any groups, a depthwise one by its own kernel; a fused residual add and
// any activation), batchnorm, the six activations, max and average pooling
// (ceil_mode, count_include_pad), global and adaptive average pooling,
// add, concat of any number of inputs, channel_scale, linear, flatten,
// identity and fill_step. What it cannot run is refused up front, not
// halfway through a run: a second input node.
#pragma once

#include "lmask/graph.h"

namespace lmask::backends::cuda {

// Throws Unsupported ("cuda: graph node 5 (input 'x2'): a second input is
// not implemented on this backend") for the first node of `fused` it
// cannot run.
void check_supported(const Graph& fused);

}  // namespace lmask::backends::cuda
