// graph_forward.h — a Graph's two forwards on the native ops: the clean
// one, and the one layer-masked forward (every node follows its row of
// mask_rules.h, the work planned by mask_plan.h). Backends that compile a
// graph their own way are tested against these.
#pragma once

#include <functional>

#include "lmask/graph.h"
#include "lmask/mask.h"
#include "lmask/masked_ops.h"

namespace lmask {

// x [N,C,H,W] -> the value of node `until` (-1: the graph's output).
Tensor run_graph(const Graph& g, const Tensor& x, int until = -1);

// Sees each node's value (and mask) as the masked forward makes it.
using NodeObserver = std::function<void(int node, const Act& value)>;

// The layer-masked forward of (x * m, m), m [N,1,H,W] (a mask per image),
// to node `until` (-1: the output): its value and mask. Only what `until`
// needs runs; options.gemm (optional) is the SGEMM its convs call.
Act run_graph_masked(const Graph& g, const Tensor& x, const Mask& m, const LayerMaskingOptions& options,
                     int until = -1, const NodeObserver& observe = nullptr);

}  // namespace lmask
