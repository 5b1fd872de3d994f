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

// A backend's own faster way through spans of a graph, which the masked
// forward runs in their place (masked_forward.h's run_span): oneDNN's
// bottleneck chains on visible rows. A span's nodes are consecutive ids,
// and no node after it reads any of them but the last.
struct MaskedSpan {
  int first = 0, last = 0;  // node ids
  int input = 0;            // the one node before `first` the span reads
};
class MaskedSpans {
 public:
  virtual ~MaskedSpans() = default;
  // The span starting at node `id`, or nullptr.
  virtual const MaskedSpan* span_at(int id) const = 0;
  // Node span.last's value from the span's input (value and mask), by the
  // rules of every node in it.
  virtual Tensor run(const MaskedSpan& span, const Act& input, const LayerMaskingOptions& options) = 0;
};

// The layer-masked forward of (x * m, m), m [N,1,H,W] (a mask per image),
// to node `until` (-1: the output): its value and mask. Only what `until`
// needs runs; options.gemm (optional) is the SGEMM its convs call; `spans`
// (optional) run their nodes.
Act run_graph_masked(const Graph& g, const Tensor& x, const Mask& m, const LayerMaskingOptions& options,
                     int until = -1, const NodeObserver& observe = nullptr, MaskedSpans* spans = nullptr);

}  // namespace lmask
