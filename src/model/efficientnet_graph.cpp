// efficientnet_graph.cpp — torchvision's EfficientNet-B0..B7 as a Graph
// (BatchNorm eps 1e-5, but 1e-3 in B5..B7; SiLU, squeeze-excitation with
// SiLU and sigmoid):
//
//   features.0       conv 3x3/2, BN, SiLU
//   features.1..7    stages of MBConv blocks (inverted_residual), the first
//                    of each with the stage's stride; the block counts,
//                    widths and kernels from the weights
//   features.8       conv 1x1, BN, SiLU
//   head             vismean, Dropout, classifier.1 Linear
#include <string>
#include <vector>

#include "zoo_builder.h"

namespace lmask {

namespace {

// torchvision builds B5, B6 and B7 with BatchNorm2d(eps=0.001) (their
// weights were ported from TensorFlow, whose default it is), B0..B4 with
// PyTorch's 1e-5. The weights do not show it; a channel of small running
// variance makes the difference large.
float batchnorm_eps(const std::string& arch) { return arch >= "efficientnet_b5" ? 1e-3f : 1e-5f; }

// MBConv blocks in stages 1..7 and features.8's width: what tells B0..B7
// apart (B1 and B2 differ only in width).
const ZooBuilder::Signatures kShapes{{"efficientnet_b0", {1, 2, 2, 3, 3, 4, 1, 1280}},
                                     {"efficientnet_b1", {2, 3, 3, 4, 4, 5, 2, 1280}},
                                     {"efficientnet_b2", {2, 3, 3, 4, 4, 5, 2, 1408}},
                                     {"efficientnet_b3", {2, 3, 3, 5, 5, 6, 2, 1536}},
                                     {"efficientnet_b4", {2, 4, 4, 6, 6, 8, 2, 1792}},
                                     {"efficientnet_b5", {3, 5, 5, 7, 7, 9, 3, 2048}},
                                     {"efficientnet_b6", {3, 6, 6, 8, 8, 11, 3, 2304}},
                                     {"efficientnet_b7", {4, 7, 7, 10, 10, 13, 4, 2560}}};

// The stride of stages 1..7, the same for B0..B7 (torchvision's MBConvConfig).
constexpr int kStageStride[] = {1, 2, 2, 2, 1, 2, 1};

}  // namespace

Graph efficientnet_graph(const Weights& w) {
  ZooBuilder b(w);
  const float eps = batchnorm_eps(w.arch);
  int t = b.conv_bn(0, "features.0", 2, eps, true, Activation::silu);
  b.stage("0", t);
  const BlockActivations f{Activation::silu, Activation::silu, Activation::sigmoid};
  std::vector<int> shape;  // kShapes' numbers of this file
  for (int stage = 1; stage <= 7; ++stage) {
    const std::string p = "features." + std::to_string(stage);
    int blocks = 0;
    while (b.has(p + "." + std::to_string(blocks) + ".block.0.0.weight")) ++blocks;
    if (blocks == 0) b.fail("stage '" + p + "' has no MBConv blocks");
    shape.push_back(blocks);
    for (int j = 0; j < blocks; ++j)
      t = inverted_residual(b, t, p + "." + std::to_string(j), j == 0 ? kStageStride[stage - 1] : 1, eps, f);
    b.stage(std::to_string(stage), t);
  }
  t = b.conv_bn(t, "features.8", 1, eps, true, Activation::silu);
  shape.push_back(b.channels(t));
  b.check_signature(kShapes, shape, "MBConv blocks per stage, then the head's width");
  b.stage("8", t);
  const int pooled = b.global_avgpool(t, "avgpool");
  t = b.op(Op::identity, {pooled}, "classifier.0");
  return b.finish(b.linear(t, "classifier.1"), pooled);
}

}  // namespace lmask
