// arena_steps.h — what the embedded forward's plan (arena_plan.cpp), its
// check of a plan (arena_fits.cpp) and the forward itself
// (arena_forward.cpp) must agree on. Private to src/embedded.
#pragma once

#include "lmask/embedded.h"
#include "lmask/mask_rules.h"

namespace lmask::arena_steps {

// The fill steps before a dense conv: the rule's k steps change nothing a
// kept output reads beyond these (mask_rules.h fill_reach; none for 1x1).
inline int fill_steps(const ConvParams& p) { return rules::fill_reach(p.kernel, p.dilation, /*centred=*/false); }

// The ops masked_forward starts with from_input (v = input 0's value): they
// may write into their input's buffer.
constexpr bool works_in_place(Op op) {
  return op == Op::batchnorm || op == Op::activation || op == Op::add || op == Op::channel_scale ||
         op == Op::fill_step;
}

// Whether node `node` of a plan masked with `fill` needs fill scratch: a
// conv that fills before it, and fill_step.
inline bool fills(const Node& node, Fill fill) {
  if (fill != Fill::neighbour_average) return false;
  return node.op == Op::fill_step || (node.op == Op::conv2d && fill_steps(node.conv) > 0);
}

// Whether `plan` is one for `g` and its input: the same nodes, each shape
// what its op gives from its inputs', every buffer inside the arena and as
// large as its step needs, and (when `with_mask`) a masked plan; `use`, if
// any, sized for it. Allocates nothing and throws nothing.
bool plan_fits(const Graph& g, const ArenaPlan& plan, bool with_mask, const ArenaUse* use);

}  // namespace lmask::arena_steps
