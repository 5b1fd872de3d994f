// conv_work.cpp — every conv's multiply-adds, dense and at the outputs its
// mask keeps (conv_work.h), for any graph, fused or not.
#include "lmask/conv_work.h"

#include "lmask/mask_plan.h"

namespace lmask {

ConvWork conv_work(const Graph& g, const Mask& m, int until) {
  if (until < 0) until = g.output;
  // The masks exactly as the masked forward plans them, without values.
  const MaskPlan plan = plan_masks(g, m, until);
  ConvWork work;
  for (int id = 1; id < g.size(); ++id) {
    const Node& node = g.nodes[id];
    if (node.op != Op::conv2d || !plan.runs[id]) continue;
    // The conv's own output mask: a fused node's planned mask is its
    // residual add's, narrower than what the conv itself leaves visible.
    const Mask own = window_mask(mask_rule(node), plan.mask[node.inputs[0]]);
    const double per_output = double(node.conv.out_channels) * node.conv.col_rows();
    work.dense_macs += per_output * double(own.tensor().numel());
    work.visible_macs += per_output * double(own.count_visible());
  }
  return work;
}

}  // namespace lmask
