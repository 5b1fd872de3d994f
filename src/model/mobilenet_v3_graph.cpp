// mobilenet_v3_graph.cpp — torchvision's MobileNetV3-Large and -Small as a
// Graph (BatchNorm eps 1e-3 throughout):
//
//   features.0       conv 3x3/2, BN, Hardswish
//   features.1..B    inverted residual blocks (inverted_residual): stride
//                    and activation per block from the tables below, the
//                    rest (expansion, kernel, squeeze-excitation) from the
//                    weights
//   features.B+1     conv 1x1, BN, Hardswish
//   head             vismean, classifier.0 Linear, Hardswish, Dropout,
//                    classifier.3 Linear
#include <string>
#include <vector>

#include "zoo_builder.h"

namespace lmask {

namespace {

constexpr float kEps = 1e-3f;

struct BlockSetting {
  int stride;
  bool hardswish;  // else ReLU
};

// torchvision's inverted_residual_setting, the two columns the weights do not show.
const std::vector<BlockSetting>& settings(const std::string& arch) {
  static const std::vector<BlockSetting> large{{1, false}, {2, false}, {1, false}, {2, false}, {1, false},
                                               {1, false}, {2, true},  {1, true},  {1, true},  {1, true},
                                               {1, true},  {1, true},  {2, true},  {1, true},  {1, true}};
  static const std::vector<BlockSetting> small{{2, false}, {2, false}, {1, false}, {2, true}, {1, true}, {1, true},
                                               {1, true},  {1, true},  {2, true},  {1, true}, {1, true}};
  return arch == "mobilenet_v3_small" ? small : large;
}

}  // namespace

Graph mobilenet_v3_graph(const Weights& w) {
  ZooBuilder b(w);
  const std::vector<BlockSetting>& blocks = settings(w.arch);
  const int head = static_cast<int>(blocks.size()) + 1;  // features index of the last conv
  int found = 0;  // the file's blocks: features.1.., then the last conv
  while (b.has("features." + std::to_string(found + 1) + ".block.0.0.weight")) ++found;
  // None: not a MobileNetV3 at all, which the first block's missing key says.
  const auto count = [](const char* arch) { return std::vector<int>{static_cast<int>(settings(arch).size())}; };
  if (found > 0)
    b.check_signature({{"mobilenet_v3_large", count("mobilenet_v3_large")},
                       {"mobilenet_v3_small", count("mobilenet_v3_small")}},
                      {found}, "inverted residual blocks");
  int t = b.conv_bn(0, "features.0", 2, kEps, true, Activation::hardswish);
  b.stage("0", t);
  for (int i = 1; i < head; ++i) {
    const BlockSetting& s = blocks[i - 1];
    const Activation act = s.hardswish ? Activation::hardswish : Activation::relu;
    t = inverted_residual(b, t, "features." + std::to_string(i), s.stride, kEps,
                          {act, Activation::relu, Activation::hardsigmoid});
    b.stage(std::to_string(i), t);
  }
  t = b.conv_bn(t, "features." + std::to_string(head), 1, kEps, true, Activation::hardswish);
  b.stage(std::to_string(head), t);
  const int pooled = b.global_avgpool(t, "avgpool");
  t = b.activation(b.linear(pooled, "classifier.0"), Activation::hardswish, "classifier.1");
  t = b.op(Op::identity, {t}, "classifier.2");
  return b.finish(b.linear(t, "classifier.3"), pooled);
}

}  // namespace lmask
