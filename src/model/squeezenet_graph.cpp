// squeezenet_graph.cpp — torchvision's SqueezeNet 1.0 and 1.1 as a Graph, in
// the masked form of the authors' SqueezeNet (LAYER_MASKING_ZOO.md,
// "Equivalent masked form"): every op zeroes its output outside its own
// mask, and each Fire's expand1x1 reads its squeeze output through
// fill_step, so it is computed on the Fire's union mask with one fill step.
//
//   features.0  conv (stride 2, no padding), ReLU
//   then per index: a Fire where features.I.squeeze.weight exists, else
//   MaxPool2d(3, 2, ceil_mode)
//   classifier: Dropout, 1x1 conv, ReLU, allmean over the positions, flatten
#include <string>

#include "zoo_builder.h"

namespace lmask {

namespace {

// Fire `p`: squeeze 1x1 + ReLU, then expand3x3 and, through one fill step,
// expand1x1, each + ReLU, concatenated [expand1x1, expand3x3]. Both
// branches end at the squeeze mask dilated by one pixel (the union).
int fire(ZooBuilder& b, int x, const std::string& p) {
  const int s = b.activation(b.conv(x, p + ".squeeze", 1, true), Activation::relu, p + ".squeeze_activation");
  const int e3 = b.activation(b.conv(s, p + ".expand3x3", 1, true), Activation::relu, p + ".expand3x3_activation");
  const int filled = b.op(Op::fill_step, {s}, p + ".expand1x1_fill");  // after expand3x3: s's last reader
  const int e1 = b.activation(b.conv(filled, p + ".expand1x1", 1, true), Activation::relu, p + ".expand1x1_activation");
  return b.op(Op::concat, {e1, e3}, p);
}

// The stem's kernel: 7x7 (96 channels) in 1.0, 3x3 (64) in 1.1; the pools'
// positions follow from the Fire keys.
const ZooBuilder::Signatures kStem{{"squeezenet1_0", {7}}, {"squeezenet1_1", {3}}};

}  // namespace

Graph squeezenet_graph(const Weights& w) {
  ZooBuilder b(w);
  int t = b.conv(0, "features.0", 2, true, 0);
  b.check_signature(kStem, {b.kernel_of("features.0.weight")}, "stem kernel");
  b.stage("0", t);
  t = b.activation(t, Activation::relu, "features.1");
  b.stage("1", t);
  // The last feature index holding a tensor: the layers after the stem up to it.
  int last = 2;
  for (int i = 2; i < 64; ++i)
    if (b.has("features." + std::to_string(i) + ".squeeze.weight")) last = i;
  for (int i = 2; i <= last; ++i) {
    const std::string p = "features." + std::to_string(i);
    t = b.has(p + ".squeeze.weight") ? fire(b, t, p) : b.maxpool(t, p, 3, 2, 0, true);
    b.stage(std::to_string(i), t);
  }
  t = b.op(Op::identity, {t}, "classifier.0");
  t = b.activation(b.conv(t, "classifier.1", 1, true), Activation::relu, "classifier.2");
  const int pooled = b.global_avgpool(t, "classifier.3", /*allmean=*/true);
  return b.finish(b.op(Op::flatten, {pooled}, "flatten"), pooled);
}

}  // namespace lmask
