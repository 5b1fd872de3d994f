// resnet_graph.cpp — a loaded ResNet as a Graph of ops, node by node as
// torchvision's forward runs it. The nodes share the network's tensors:
// nothing is copied.
#include "lmask/resnet.h"

namespace lmask {

namespace {

// conv [then its BatchNorm, when kept apart]: returns the node of its value.
int add_conv_bn(Graph& g, int src, const ConvBN& c) {
  Node conv{Op::conv2d, {src}, c.name};
  conv.conv = c.conv, conv.weight = c.weight, conv.bias = c.bias;
  const int id = g.add(std::move(conv));
  if (c.bn.empty()) return id;
  Node bn{Op::batchnorm, {id}, c.bn_name};
  bn.bn = c.bn;
  return g.add(std::move(bn));
}

int add_relu(Graph& g, int src, const std::string& name) {
  Node relu{Op::activation, {src}, name};
  relu.activation = Activation::relu;
  return g.add(std::move(relu));
}

}  // namespace

Graph ResNet::graph() const {
  Graph g;
  g.in_channels = 3;
  // x [N,3,H,W] -> conv1, bn1, relu [N,64,H/2,W/2] -> maxpool [N,64,H/4,W/4]
  int t = add_relu(g, add_conv_bn(g, 0, stem_), "relu");
  Node pool{Op::maxpool, {t}, "maxpool"};
  pool.pool.kernel = 3, pool.pool.stride = 2, pool.pool.padding = 1;
  t = g.add(std::move(pool));
  g.stages.emplace_back("stem", t);
  // Each block: the branch's convs (ReLU after all but the last), the
  // downsample, the residual add and its ReLU. The downsample comes before
  // the branch's last conv so that conv can take the add into its epilogue
  // (fuse_epilogues: the other operand must exist first).
  std::size_t b = 0;
  for (int stage = 0; stage < 4; ++stage) {
    for (; b < stage_end(stage); ++b) {
      const Block& block = blocks_[b];
      const std::string prefix = block.convs[0].name.substr(0, block.convs[0].name.rfind('.') + 1);
      const int x = t;
      for (std::size_t i = 0; i + 1 < block.convs.size(); ++i)
        t = add_relu(g, add_conv_bn(g, t, block.convs[i]), prefix + "relu");
      const int identity = block.has_downsample ? add_conv_bn(g, x, block.downsample) : x;
      t = add_conv_bn(g, t, block.convs.back());
      t = add_relu(g, g.add({Op::add, {t, identity}, prefix + "add"}), prefix + "relu");
    }
    g.stages.emplace_back("layer" + std::to_string(stage + 1), t);
  }
  // avgpool [N,F,1,1] -> fc [N,classes,1,1]
  g.features = g.add({Op::global_avgpool, {t}, "avgpool"});
  Node fc{Op::linear, {g.features}, "fc"};
  fc.weight = fc_weight_, fc.bias = fc_bias_;
  g.output = g.add(std::move(fc));
  return g;
}

}  // namespace lmask
