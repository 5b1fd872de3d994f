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

#include "zoo_builder.h"

namespace lmask {

namespace {

// torchvision builds B5, B6 and B7 with BatchNorm2d(eps=0.001) (their
// weights were ported from TensorFlow, whose default it is), B0..B4 with
// PyTorch's 1e-5. The weights do not show it; a channel of small running
// variance makes the difference large.
float batchnorm_eps(const std::string& arch) { return arch >= "efficientnet_b5" ? 1e-3f : 1e-5f; }

// The stride of stages 1..7, the same for B0..B7 (torchvision's MBConvConfig).
constexpr int kStageStride[] = {1, 2, 2, 2, 1, 2, 1};

}  // namespace

Graph efficientnet_graph(const Weights& w) {
  ZooBuilder b(w);
  const float eps = batchnorm_eps(w.arch);
  int t = b.conv_bn(0, "features.0", 2, eps, true, Activation::silu);
  b.stage("0", t);
  const BlockActivations f{Activation::silu, Activation::silu, Activation::sigmoid};
  for (int stage = 1; stage <= 7; ++stage) {
    const std::string p = "features." + std::to_string(stage);
    int blocks = 0;
    while (b.has(p + "." + std::to_string(blocks) + ".block.0.0.weight")) ++blocks;
    if (blocks == 0) b.fail("stage '" + p + "' has no MBConv blocks");
    for (int j = 0; j < blocks; ++j)
      t = inverted_residual(b, t, p + "." + std::to_string(j), j == 0 ? kStageStride[stage - 1] : 1, eps, f);
    b.stage(std::to_string(stage), t);
  }
  t = b.conv_bn(t, "features.8", 1, eps, true, Activation::silu);
  b.stage("8", t);
  const int pooled = b.global_avgpool(t, "avgpool");
  t = b.op(Op::identity, {pooled}, "classifier.0");
  return b.finish(b.linear(t, "classifier.1"), pooled);
}

}  // namespace lmask
