// test_golden_resnet.cpp — ResNet-50, as the ResNet builder makes it and as
// a Model runs it, against logits computed by PyTorch.
#include <doctest/doctest.h>

#include "golden.h"
#include "lmask/model.h"
#include "lmask/resnet.h"

using namespace lmask;
using lmask::testing::golden_cases;
using lmask::testing::golden_model;
using lmask::testing::golden_path;
using lmask::testing::read_tensor;

TEST_CASE("golden: clean ResNet-50 logits match PyTorch within 1e-3") {
  Tensor x = read_tensor(golden_cases(), "input");
  Tensor expected = read_tensor(golden_cases(), "expected/clean");
  Tensor logits = golden_model().forward(x);
  const float diff = max_abs_diff(logits, expected);
  MESSAGE("clean: max |diff| = " << diff);
  CHECK(diff <= 1e-3f);
}

TEST_CASE("golden: non-square input (160x256) logits match PyTorch within 1e-3") {
  Tensor x = read_tensor(golden_cases(), "nonsquare/input");
  Tensor expected = read_tensor(golden_cases(), "nonsquare/expected_clean");
  const float diff = max_abs_diff(golden_model().forward(x), expected);
  MESSAGE("nonsquare clean: max |diff| = " << diff);
  CHECK(diff <= 1e-3f);
}

TEST_CASE("golden: unfolded BatchNorm reference equals the folded network") {
  const ResNet reference =
      ResNet::load(golden_path("resnet50_random.h5"), LoadOptions{/*fold_bn=*/false});
  Tensor x = read_tensor(golden_cases(), "input").batch(0, 1);
  Tensor expected = read_tensor(golden_cases(), "expected/clean").batch(0, 1);
  Tensor folded = golden_model().forward(x);
  Tensor unfolded = reference.forward(x);
  CHECK(max_abs_diff(unfolded, expected) <= 1e-3f);
  CHECK(max_abs_diff(folded, unfolded) <= 1e-3f);
}

TEST_CASE("golden: one perturbed weight makes the golden comparison fail") {
  // Shows the golden test can fail: nudge a single layer's weights and the
  // logits must leave the 1e-3 band.
  Weights w = load_weights(golden_path("resnet50_random.h5"));
  Tensor& conv = w.params.at("layer3.2.conv2.weight");
  for (std::size_t i = 0; i < conv.numel(); i += 97) conv.data()[i] *= 1.05f;
  const Model broken = Model::from_weights(std::move(w));
  Tensor x = read_tensor(golden_cases(), "input").batch(0, 1);
  Tensor expected = read_tensor(golden_cases(), "expected/clean").batch(0, 1);
  const float diff = max_abs_diff(broken.forward(x), expected);
  MESSAGE("perturbed: max |diff| = " << diff);
  CHECK(diff > 1e-3f);
}
