// densenet_graph.cpp — torchvision's DenseNet-121/161/169/201 as a Graph,
// node by node as its forward runs, with the authors' head
// (LAYER_MASKING_ZOO.md): the mask is dropped after norm5, so the pool is
// allmean.
//
//   conv0 7x7/2, norm0, relu0, pool0 3x3/2
//   denseblockB: each denselayerL concatenates the block's list so far,
//     then norm1, relu1, conv1 1x1, norm2, relu2, conv2 3x3, and appends
//     its new channels; the block's output concatenates the whole list
//   transitionB (between blocks): norm, relu, conv 1x1, AvgPool2d(2, 2)
//   norm5, ReLU, allmean, classifier
#include <string>
#include <vector>

#include "zoo_builder.h"

namespace lmask {

namespace {

constexpr float kEps = 1e-5f;

// Dense layers per block (torchvision's block_config).
const ZooBuilder::Signatures kBlocks{{"densenet121", {6, 12, 24, 16}},
                                     {"densenet161", {6, 12, 36, 24}},
                                     {"densenet169", {6, 12, 32, 32}},
                                     {"densenet201", {6, 12, 48, 32}}};

int bn_relu(ZooBuilder& b, int x, const std::string& norm, const std::string& relu) {
  return b.activation(b.batchnorm(x, norm, kEps), Activation::relu, relu);
}

// The concatenation of `list` (a single input as it is).
int concat(ZooBuilder& b, const std::vector<int>& list, const std::string& name) {
  return list.size() == 1 ? list[0] : b.op(Op::concat, list, name);
}

}  // namespace

Graph densenet_graph(const Weights& w) {
  ZooBuilder b(w);
  int t = b.conv(0, "features.conv0", 2, false);
  b.stage("conv0", t);
  t = b.batchnorm(t, "features.norm0", kEps);
  b.stage("norm0", t);
  t = b.activation(t, Activation::relu, "features.relu0");
  b.stage("relu0", t);
  t = b.maxpool(t, "features.pool0", 3, 2, 1, false);
  b.stage("pool0", t);
  std::vector<int> layers_per_block;
  for (int block = 1; b.has("features.denseblock" + std::to_string(block) + ".denselayer1.conv1.weight"); ++block) {
    const std::string name = "denseblock" + std::to_string(block);
    std::vector<int> list{t};
    for (int layer = 1;; ++layer) {
      const std::string p = "features." + name + ".denselayer" + std::to_string(layer);
      if (!b.has(p + ".conv1.weight")) break;
      int y = bn_relu(b, concat(b, list, p + ".cat"), p + ".norm1", p + ".relu1");
      y = bn_relu(b, b.conv(y, p + ".conv1", 1, false), p + ".norm2", p + ".relu2");
      list.push_back(b.conv(y, p + ".conv2", 1, false));
    }
    layers_per_block.push_back(static_cast<int>(list.size()) - 1);
    t = concat(b, list, "features." + name);
    b.stage(name, t);
    const std::string tr = "transition" + std::to_string(block);
    if (!b.has("features." + tr + ".conv.weight")) continue;
    const std::string p = "features." + tr;
    t = b.conv(bn_relu(b, t, p + ".norm", p + ".relu"), p + ".conv", 1, false);
    t = b.avgpool(t, p + ".pool", 2, 2);
    b.stage(tr, t);
  }
  b.check_signature(kBlocks, layers_per_block, "dense layers per block");
  t = b.batchnorm(t, "features.norm5", kEps);
  b.stage("norm5", t);
  t = b.activation(t, Activation::relu, "relu");
  const int pooled = b.global_avgpool(t, "avgpool", /*allmean=*/true);
  return b.finish(b.linear(pooled, "classifier"), pooled);
}

}  // namespace lmask
