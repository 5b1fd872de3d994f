// mask_plan.h — where the masks go through a graph, worked out before any
// value is: each node's output mask (the "output mask" column of
// mask_rules.h), and the part of it some reader keeps, which is all a
// node must compute.
//
// The second is what makes a masked forward cheaper than its rules read.
// A reader that reads each output at its own position (a 1x1 stride-1
// conv, an activation, BatchNorm, add, concat) reads its inputs only where
// it computes; an add computes only where both operands' masks are
// visible. So inside a residual block the branch's last conv, and every
// conv reaching it through such readers, computes only at the join's mask.
// Any other reader (a k x k window, a pool) needs all of its input's mask.
#pragma once

#include <vector>

#include "lmask/graph.h"
#include "lmask/mask.h"

namespace lmask {

// The output mask of `node` from its inputs' masks: the rule of its op.
// A mask that ends (global pooling, linear, flatten) becomes all visible at
// the output's size [N,1,1,1].
Mask output_mask(const Node& node, const std::vector<const Mask*>& inputs);

struct MaskPlan {
  std::vector<bool> runs;     // per node: needed for the asked-for node
  std::vector<Mask> mask;     // per node that runs: its output mask m'
  std::vector<Mask> compute;  // per node that runs: the outputs a reader keeps, within m'
};

// The plan for the masked forward of `g` up to node `until`, from the input
// mask m [N,1,H,W].
MaskPlan plan_masks(const Graph& g, const Mask& m, int until);

// Whether `node` reads its input number `k` only at its own output
// positions, and only where its output is kept (so it needs that input only
// there).
bool reads_in_place(const Node& node, int k);

}  // namespace lmask
