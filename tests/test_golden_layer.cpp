// test_golden_layer.cpp — the layer-masked forward against the authors'
// PyTorch implementation (shared/golden/cases.h5), in both executions.
#include <doctest/doctest.h>

#include "golden.h"
#include "lmask/graph_forward.h"
#include "lmask/model.h"

using namespace lmask;
using lmask::testing::golden_cases;
using lmask::testing::golden_model;
using lmask::testing::golden_path;
using lmask::testing::read_tensor;

namespace {

Mask masks_of_kind(int kind) { return lmask::testing::golden_masks(golden_cases(), kind); }
Tensor expected_of_kind(const std::string& mode, int kind) {
  return lmask::testing::golden_expected(golden_cases(), mode, kind);
}
const std::string& kind_name(int kind) { return lmask::testing::golden_mask_kinds()[kind]; }

void check_layer_golden(Execution execution) {
  const Tensor x = read_tensor(golden_cases(), "input");
  for (int kind = 0; kind < 6; ++kind) {
    CAPTURE(kind_name(kind));
    const Tensor logits = golden_model().forward_masked(x, masks_of_kind(kind), {Fill::neighbour_average, execution});
    const float diff = max_abs_diff(logits, expected_of_kind("layer", kind));
    MESSAGE(kind_name(kind) << ": max |diff| = " << diff);
    CHECK(diff <= 1e-3f);
  }
}

}  // namespace

TEST_CASE("golden layer: active-region execution matches expected/layer for all mask kinds") {
  check_layer_golden(Execution::active);
}

TEST_CASE("golden layer: dense execution matches expected/layer for all mask kinds") {
  check_layer_golden(Execution::dense);
}

TEST_CASE("golden layer: active and dense executions agree within 1e-4") {
  const Tensor x = read_tensor(golden_cases(), "input");
  for (int kind : {0, 2, 5}) {
    CAPTURE(kind_name(kind));
    const Mask m = masks_of_kind(kind);
    const Tensor active = golden_model().forward_masked(x, m, {Fill::neighbour_average, Execution::active});
    const Tensor dense = golden_model().forward_masked(x, m, {Fill::neighbour_average, Execution::dense});
    CHECK(max_abs_diff(active, dense) <= 1e-4f);
  }
}

TEST_CASE("golden layer: stage activations and masks after stem and each stage (patch30)") {
  const Tensor x = read_tensor(golden_cases(), "input");
  int seen = 0;
  // The graph's stage ends, as the masked forward makes them.
  const Graph& g = golden_model().graph();
  run_graph_masked(g, x, masks_of_kind(0), {}, g.features, [&](int node, const Act& a) {
    std::string stage;
    for (const auto& [name, id] : g.stages)
      if (id == node) stage = name;
    if (stage.empty()) return;
    CAPTURE(stage);
    const Tensor value = read_tensor(golden_cases(), "stages_patch30/" + stage + "/value");
    const Tensor mask = read_tensor(golden_cases(), "stages_patch30/" + stage + "/mask");
    const float diff = max_abs_diff(a.x, value);
    MESSAGE(stage << ": max |diff| = " << diff << " (max |expected| = " << max_abs(value) << ")");
    CHECK(diff <= 1e-3f * max_abs(value));
    CHECK(max_abs_diff(a.m.tensor(), mask) == 0.f);
    ++seen;
  });
  CHECK(seen == 5);
}

TEST_CASE("golden layer: non-square input with a 40% patch mask") {
  const Tensor x = read_tensor(golden_cases(), "nonsquare/input");
  const Mask m(read_tensor(golden_cases(), "nonsquare/mask"));
  const float diff =
      max_abs_diff(golden_model().forward_masked(x, m), read_tensor(golden_cases(), "nonsquare/expected_layer"));
  MESSAGE("nonsquare layer: max |diff| = " << diff);
  CHECK(diff <= 1e-3f);
}

TEST_CASE("golden layer: a wrong fill (zeros instead of neighbour averages) fails the golden check") {
  // Shows the golden comparison catches a wrong fill: the same network with
  // removed inputs left at 0 must leave the 1e-3 band on patch30.
  const Tensor x = read_tensor(golden_cases(), "input");
  const Tensor logits = golden_model().forward_masked(x, masks_of_kind(0), {Fill::none, Execution::active});
  const float diff = max_abs_diff(logits, expected_of_kind("layer", 0));
  MESSAGE("zero fill: max |diff| = " << diff);
  CHECK(diff > 1e-3f);
}

TEST_CASE("golden layer: all-visible equals the unmasked forward, all-removed gives fc.bias") {
  const Tensor x = read_tensor(golden_cases(), "input");
  const Tensor clean = golden_model().forward(x);
  // Equal up to the spec's own 1e-8 in the pool's denominator (mean(m) + 1e-8).
  CHECK(max_abs_diff(golden_model().forward_masked(x, masks_of_kind(3)), clean) <= 1e-5f);
  const Tensor removed = golden_model().forward_masked(x, masks_of_kind(4));
  const Weights w = load_weights(golden_path("resnet50_random.h5"));
  const Tensor& bias = w.params.at("fc.bias");
  for (int i = 0; i < 3; ++i) CHECK(max_abs_diff(removed.batch(i, 1), bias) <= 1e-6f);
}
