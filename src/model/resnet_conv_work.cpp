// resnet_conv_work.cpp — how much of a ResNet's conv work a mask leaves:
// every conv's multiply-adds, dense and at the outputs its mask keeps.
#include "lmask/mask_plan.h"
#include "lmask/resnet.h"

namespace lmask {

ResNet::ConvWork ResNet::conv_work(const Mask& m) const {
  // The masks exactly as the masked forward plans them, without values.
  const Graph g = graph();
  const MaskPlan plan = plan_masks(g, m, g.features);
  ConvWork work;
  for (int id = 0; id < g.size(); ++id) {
    const Node& node = g.nodes[id];
    if (node.op != Op::conv2d || !plan.runs[id]) continue;
    const double per_output = double(node.conv.out_channels) * node.conv.col_rows();
    work.dense_macs += per_output * double(plan.mask[id].tensor().numel());
    work.visible_macs += per_output * double(plan.mask[id].count_visible());
  }
  return work;
}

}  // namespace lmask
