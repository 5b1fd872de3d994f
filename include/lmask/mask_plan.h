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

// The "output mask" column of mask_rules.h for one node, as data: every
// backend applies it to masks of its own (Mask objects here, float planes in
// the embedded arena, device planes on CUDA), so which mask a node gets is
// decided in one place, mask_rule().
struct MaskRule {
  enum Kind {
    same,      // m' = m0: a node reading each input position in place
    window,    // m' = dil(m0; window), then * m1 when times_second
    adaptive,  // adaptive_avgpool to bins x bins: a bin is visible iff it holds a visible input
    product,   // m' = m0 * m1: add, and concat of two
    majority,  // m' = the strict majority of the m_i: concat of three or more
    ends,      // all visible [N,1,1,1]: global pooling, linear, flatten
  };
  Kind kind = same;
  // window: an output is visible iff its k x k window (stride, padding,
  // dilation; ceil_mode as in ops.h's PoolParams) holds a visible input.
  int kernel = 1, stride = 1, padding = 0, dilation = 1;
  bool ceil_mode = false;
  bool times_second = false;  // window, for a conv with its residual add fused
  int bins = 1;               // adaptive
};
MaskRule mask_rule(const Node& node);

// The output mask from the inputs' masks by `rule` (mask_rule of the node).
// A mask that ends becomes all visible at the output's size [N,1,1,1].
Mask apply_mask_rule(const MaskRule& rule, const std::vector<const Mask*>& inputs);
// For a rule with times_second, the window's mask alone (the conv's own m').
Mask window_mask(const MaskRule& rule, const Mask& m);
inline Mask output_mask(const Node& node, const std::vector<const Mask*>& inputs) {
  return apply_mask_rule(mask_rule(node), inputs);
}

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
