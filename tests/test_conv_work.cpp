// test_conv_work.cpp — conv_work on a graph: the numbers ResNet::conv_work
// gave for the shipped shapes (literals, from the ResNet before that method
// moved to the graph), the same on the fused graph as on the unfused one,
// and a two-conv graph counted by hand.
#include <doctest/doctest.h>

#include "golden.h"
#include "lmask/conv_work.h"
#include "lmask/mask_builders.h"
#include "lmask/model.h"

using namespace lmask;
using lmask::testing::golden_model;
using lmask::testing::golden_net;

namespace {

// Two images of random patches removed: patch px squares, fraction f, seeds seed and seed + 1.
Mask two_patch_masks(int size, int patch, double f, std::uint64_t seed) {
  return stack_masks(
      {random_patch_mask(size, size, patch, f, seed), random_patch_mask(size, size, patch, f, seed + 1)});
}

}  // namespace

TEST_CASE("conv work: ResNet-50's multiply-adds are the ones ResNet::conv_work counted, fused or not") {
  struct Case {
    int size, patch;
    double removed;
    std::uint64_t seed;
    double dense, visible;  // ResNet::conv_work of the golden ResNet-50, two images
  };
  const Case cases[] = {
      {224, 16, 0.0, 0, 2 * 4087136256.0, 2 * 4087136256.0},  // 4.09 GMACs per image, torchvision's figure
      {224, 16, 0.5, 7, 8174272512.0, 7563466944.0},
      {224, 16, 0.9, 3, 8174272512.0, 4063835136.0},
      {64, 5, 0.0, 0, 2 * 333643776.0, 2 * 333643776.0},  // the shipped model's input size
      {64, 5, 0.5, 7, 667287552.0, 666111552.0},
      {64, 5, 0.9, 3, 667287552.0, 534677312.0},
  };
  const Graph unfused = golden_net().graph();  // as the ResNet builder makes it
  const Graph& fused = golden_model().graph();  // what runs
  REQUIRE(fused.size() < unfused.size());  // the residual adds and ReLUs went into the convs
  for (const Case& c : cases) {
    CAPTURE(c.size);
    CAPTURE(c.removed);
    const Mask m = two_patch_masks(c.size, c.patch, c.removed, c.seed);
    for (const Graph* g : {&unfused, &fused}) {
      const ConvWork w = conv_work(*g, m);
      CHECK(w.dense_macs == c.dense);
      CHECK(w.visible_macs == c.visible);
    }
  }
}

TEST_CASE("conv work: a conv and a residual conv, counted by hand, and only what the forward to `until` runs") {
  // x [1,2,4,4] -> a: 3x3 conv 2->3, stride 1, pad 1 -> b: 1x1 conv 3->2 + x (residual), fused.
  Graph g;
  g.in_channels = 2;
  Node a{Op::conv2d, {0}, "a"};
  a.conv.in_channels = 2, a.conv.out_channels = 3, a.conv.kernel = 3, a.conv.padding = 1;
  a.weight = Tensor({3, 2, 3, 3});
  const int ia = g.add(a);
  Node b{Op::conv2d, {ia, 0}, "b"};
  b.conv.in_channels = 3, b.conv.out_channels = 2, b.conv.kernel = 1;
  b.weight = Tensor({2, 3, 1, 1});
  g.output = g.add(b);
  // One visible pixel in the corner: a's 3x3 rule keeps the 2x2 around it,
  // b's 1x1 keeps those 4 too (its own mask, before the residual's 1 pixel).
  Tensor t({1, 1, 4, 4});
  t.at(0, 0, 0, 0) = 1.f;
  const ConvWork w = conv_work(g, Mask(t));
  const double a_per_output = 3 * 2 * 9, b_per_output = 2 * 3 * 1;
  CHECK(w.dense_macs == 16 * a_per_output + 16 * b_per_output);
  CHECK(w.visible_macs == 4 * a_per_output + 4 * b_per_output);
  CHECK(conv_work(g, Mask(t), ia).dense_macs == 16 * a_per_output);  // b does not run
  CHECK(conv_work(g, Mask::visible(1, 4, 4)).visible_fraction() == 1.0);
}
