// resnet_layer_graph.cpp — a loaded ResNet lowered to the CUDA backend's
// layer list (backend.h): the nodes of its graph with epilogues fused. It
// only points at the network's tensors: nothing is copied.
#include "lmask/backend.h"
#include "lmask/error.h"
#include "lmask/resnet.h"

namespace lmask {

namespace {

// Appends a conv and returns the activation it writes.
int add_conv(LayerGraph& g, int src, const ConvBN& c, bool relu, int residual = -1) {
  if (!c.bn.empty())
    throw InputError("backend", "needs the BatchNorm folded into the convs (load with fold_bn = true)");
  Layer l;
  l.op = Layer::Op::conv;
  l.src = src, l.residual = residual, l.relu = relu;
  l.conv = c.conv;
  l.weight = &c.weight;
  l.bias = c.bias.empty() ? nullptr : &c.bias;
  g.layers.push_back(l);
  return g.output();
}

int add_layer(LayerGraph& g, Layer::Op op, int src) {
  Layer l;
  l.op = op;
  l.src = src;
  g.layers.push_back(l);
  return g.output();
}

}  // namespace

LayerGraph resnet_layer_graph(const ResNet& net) {
  LayerGraph g;
  g.in_channels = 3;
  // x [N,3,H,W] -> stem [N,64,H/2,W/2] -> maxpool [N,64,H/4,W/4]
  int t = add_conv(g, 0, net.stem(), true);
  t = add_layer(g, Layer::Op::maxpool, t);
  g.layers.back().conv.kernel = 3, g.layers.back().conv.stride = 2, g.layers.back().conv.padding = 1;
  // Each block: the branch's convs, the downsample (if any) after them so its
  // input is last read there, and the residual join as the last conv's sum:
  // the identity's memory becomes the block's output.
  for (const Block& b : net.blocks()) {
    const int x = t;
    for (std::size_t i = 0; i + 1 < b.convs.size(); ++i) t = add_conv(g, t, b.convs[i], true);
    const int identity = b.has_downsample ? add_conv(g, x, b.downsample, false) : x;
    t = add_conv(g, t, b.convs.back(), true, identity);
  }
  // global average pool -> [N,F,1,1] -> fc -> [N,classes,1,1]
  g.features = add_layer(g, Layer::Op::global_avgpool, t);
  add_layer(g, Layer::Op::linear, g.features);
  g.layers.back().weight = &net.fc_weight();
  g.layers.back().bias = &net.fc_bias();
  return g;
}

}  // namespace lmask
