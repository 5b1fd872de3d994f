// mask_plan.cpp — the masks of a graph's nodes and what each must compute
// (mask_plan.h). mask_rule() below is the "output mask" column of
// mask_rules.h, written once for every backend; apply_mask_rule carries it
// out on host masks.
#include "lmask/mask_plan.h"

#include <algorithm>
#include <stdexcept>

#include "lmask/kernels.h"
#include "lmask/mask_rules.h"

namespace lmask {

namespace {

// concat: visible where a strict majority of the inputs is.
Mask majority(const std::vector<const Mask*>& inputs) {
  const Mask& first = *inputs[0];
  Tensor t({first.n(), 1, first.h(), first.w()});
  const int n = static_cast<int>(inputs.size());
  for (std::size_t i = 0; i < t.numel(); ++i) {
    int visible = 0;
    for (const Mask* m : inputs) visible += m->tensor().data()[i] != 0.f;
    t.data()[i] = rules::majority_visible(visible, n);
  }
  return Mask(t);
}

// adaptive_avgpool to S x S: a bin is visible iff it holds a visible input.
Mask adaptive_bins(const Mask& m, int size) {
  Tensor t = Tensor::uninitialized({m.n(), 1, size, size});
  kernels::bins_any(t.data(), m.tensor().data(), m.n(), m.h(), m.w(), size);
  return Mask(t);
}

// a | b, for the union of what the readers of a node keep.
Mask either(const Mask& a, const Mask& b) {
  Tensor t = a.tensor().clone();
  for (std::size_t i = 0; i < t.numel(); ++i) t.data()[i] = std::max(t.data()[i], b.tensor().data()[i]);
  return Mask(t);
}

}  // namespace

MaskRule mask_rule(const Node& node) {
  MaskRule r;
  switch (node.op) {
    case Op::conv2d: {
      const ConvParams& p = node.conv;
      if (p.is_pointwise() && !node.has_residual()) return r;  // a 1x1 stride-1 window is the mask itself
      r.kind = MaskRule::window;
      r.kernel = p.kernel, r.stride = p.stride, r.padding = p.padding, r.dilation = p.dilation;
      r.times_second = node.has_residual();  // then the add's rule
      return r;
    }
    case Op::maxpool:
    case Op::avgpool:
      r.kind = MaskRule::window;
      r.kernel = node.pool.kernel, r.stride = node.pool.stride, r.padding = node.pool.padding;
      r.ceil_mode = node.pool.ceil_mode;
      return r;
    case Op::fill_step:  // one fill step reaches one pixel beyond the mask
      r.kind = MaskRule::window;
      r.kernel = 3, r.stride = 1, r.padding = 1;
      return r;
    case Op::adaptive_avgpool:
      r.kind = MaskRule::adaptive;
      r.bins = node.out_size;
      return r;
    case Op::add: r.kind = MaskRule::product; return r;
    case Op::concat:
      r.kind = node.inputs.size() == 1 ? MaskRule::same
               : node.inputs.size() == 2 ? MaskRule::product  // a strict majority of two is both
                                         : MaskRule::majority;
      return r;
    case Op::global_avgpool:
    case Op::linear:
    case Op::flatten: r.kind = MaskRule::ends; return r;
    case Op::input:
    case Op::batchnorm:
    case Op::activation:
    case Op::channel_scale:
    case Op::identity: return r;
  }
  return r;
}

Mask window_mask(const MaskRule& r, const Mask& m) {
  if (r.dilation != 1) return m.pooled(r.kernel, r.stride, r.padding, r.dilation);
  PoolParams p;
  p.kernel = r.kernel, p.stride = r.stride, p.padding = r.padding, p.ceil_mode = r.ceil_mode;
  return m.pooled(p);
}

Mask apply_mask_rule(const MaskRule& r, const std::vector<const Mask*>& in) {
  const Mask& m = *in[0];
  switch (r.kind) {
    case MaskRule::same: return m;
    case MaskRule::window: return r.times_second ? window_mask(r, m) * *in[1] : window_mask(r, m);
    case MaskRule::adaptive: return adaptive_bins(m, r.bins);
    case MaskRule::product: return m * *in[1];
    case MaskRule::majority: return majority(in);
    case MaskRule::ends: return Mask::visible(m.n(), 1, 1);
  }
  throw std::logic_error("mask plan: unknown mask rule");
}

bool reads_in_place(const Node& node, int k) {
  switch (node.op) {
    case Op::conv2d: return k == 1 || node.conv.is_pointwise();
    case Op::batchnorm:
    case Op::activation:
    case Op::add:
    case Op::concat:
    case Op::identity: return true;
    case Op::channel_scale: return k == 0;  // the scale [N,C,1,1] is read whole
    default: return false;
  }
}

MaskPlan plan_masks(const Graph& g, const Mask& m, int until) {
  MaskPlan plan;
  const std::size_t count = g.nodes.size();
  plan.runs = needed_for(g, until);

  plan.mask.resize(count);
  plan.mask[0] = m;
  std::vector<const Mask*> inputs;
  for (int id = 1; id <= until; ++id) {
    if (!plan.runs[id]) continue;
    inputs.clear();
    for (int in : g.nodes[id].inputs) inputs.push_back(&plan.mask[in]);
    plan.mask[id] = output_mask(g.nodes[id], inputs);
  }

  // Backwards: a node computes what its readers keep of it. `whole` marks a
  // node some reader needs all of (and the asked-for node itself).
  plan.compute.resize(count);
  std::vector<bool> whole(count, false);
  std::vector<Mask> kept(count);  // the union of what in-place readers keep
  whole[until] = true;
  for (int id = until; id >= 0; --id) {
    if (!plan.runs[id]) continue;
    plan.compute[id] = whole[id] || kept[id].empty() ? plan.mask[id] : plan.mask[id] * kept[id];
    const Node& node = g.nodes[id];
    for (std::size_t k = 0; k < node.inputs.size(); ++k) {
      const int in = node.inputs[k];
      if (!reads_in_place(node, static_cast<int>(k))) whole[in] = true;
      else if (!whole[in]) kept[in] = kept[in].empty() ? plan.compute[id] : either(kept[in], plan.compute[id]);
    }
  }
  return plan;
}

}  // namespace lmask
