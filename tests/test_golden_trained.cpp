// test_golden_trained.cpp — the shipped trained model (weights/resnet50_fmnist.h5)
// against the authors' PyTorch logits in shared/golden/trained_cases.h5: the
// clean forward, layer masking with the neighbour fill and renormalised, and
// greyout / blackout, on every built backend, layer masking in both executions.
//
// Why a second golden file: on the random ResNet-50 of cases.h5, skipping the
// fill inside the bottlenecks moves the logits by less than 1e-3, so those
// cases barely test it; on this trained model it moves them by 0.2-3.0. The
// last two cases show it: no fill at all, and the stem's fill with none in the
// blocks, both miss the tolerance by 10x or more where the blocks see holes.
// The cases hold for one weights file only, so its sha256 is checked first.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "golden.h"
#include "lmask/backend.h"
#include "lmask/graph_forward.h"
#include "lmask/image.h"
#include "lmask/masking.h"
#include "lmask/model.h"
#include "lmask/resnet.h"

using namespace lmask;
using lmask::testing::expected_of_kind;
using lmask::testing::golden_path;
using lmask::testing::masks_of_kind;
using lmask::testing::read_tensor;

namespace {

const Hdf5File& trained_cases() {
  static const Hdf5File f(golden_path("trained_cases.h5"));
  return f;
}

// The weights the cases were computed with, as the file names them (relative
// to the project root).
std::string weights_name() { return trained_cases().attr_string("weights", "weights/resnet50_fmnist.h5"); }
std::string weights_path() { return std::string(LMASK_SOURCE_DIR) + "/" + weights_name(); }

// A file's sha256 as `sha256sum` prints it; "" when it could not run.
std::string sha256_of(const std::string& path) {
  FILE* p = popen(("sha256sum '" + path + "' 2>/dev/null").c_str(), "r");
  if (!p) return "";
  char hex[64];
  const std::size_t got = std::fread(hex, 1, sizeof hex, p);
  pclose(p);
  return got == sizeof hex ? std::string(hex, sizeof hex) : "";
}

// Every case below first requires the shipped weights to be the file the
// golden logits were computed for: a retrained model then fails with one
// line saying so, not with hundreds of logit differences.
void require_shipped_weights() {
  static const std::string actual = sha256_of(weights_path());
  const std::string wanted = trained_cases().attr_string("weights_sha256");
  REQUIRE_MESSAGE(actual == wanted, weights_name() << " was changed: the trained golden cases hold only for sha256 "
                                                   << wanted << ", the file has "
                                                   << (actual.empty() ? "(sha256sum failed)" : actual));
}

// The shipped model running natively, loaded once.
const Model& trained_model() {
  static const Model model = Model::load(weights_path());
  return model;
}

// The same model on backend `name`, as the CLI runs it.
Model trained_on(const std::string& name) { return Model::load(weights_path(), {name}); }

// The ResNet builder's network of the same file, for the unfilled-blocks
// oracle below, which walks its residual blocks.
const ResNet& trained_net() {
  static const ResNet net = ResNet::load(weights_path());
  return net;
}

const Tensor& input01() {  // [7,3,64,64] in [0,1]
  static const Tensor t = read_tensor(trained_cases(), "input_01");
  return t;
}
const Tensor& input() {  // [7,3,64,64], normalised with the model's mean/std
  static const Tensor t = read_tensor(trained_cases(), "input");
  return t;
}

// The 9 mask kinds, named by the file's attribute `kinds` ("patch30_4px,...").
const std::vector<std::string>& kind_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    std::stringstream ss(trained_cases().attr_string("kinds"));
    for (std::string name; std::getline(ss, name, ',');) out.push_back(name);
    return out;
  }();
  return names;
}
int kind_count() { return static_cast<int>(kind_names().size()); }
int kind_index(const std::string& name) {
  const auto& names = kind_names();
  const auto it = std::find(names.begin(), names.end(), name);
  REQUIRE_MESSAGE(it != names.end(), "no mask kind '" << name << "' in trained_cases.h5");
  return static_cast<int>(it - names.begin());
}

// All 7 images with their masks of one kind: one batch, one forward per kind.
Mask masks(int kind) {
  static const Tensor all = read_tensor(trained_cases(), "mask");  // [7,9,64,64]
  REQUIRE(all.c() == kind_count());
  return masks_of_kind(all, kind);
}

// README "trained_cases.h5": max |Δ logit| <= 1e-3 + 1e-4 * max |expected logit|
// per image and method (and kind). The model is confident (clean logits reach
// ±165, layer-renorm's ±1.8e4), so an absolute 1e-3 alone would test float32
// rounding, not the algorithm.
float tolerance(const Tensor& expected_image) { return 1e-3f + 1e-4f * max_abs(expected_image); }

// The largest |Δ|/tolerance seen over a set of comparisons, and where.
struct Worst {
  float ratio = 0.f;
  std::string where;
  void update(float r, const std::string& at) {
    if (std::isnan(ratio)) return;             // a NaN is the worst of all
    if (!(r <= ratio)) ratio = r, where = at;  // so is a new one
  }
};

// |Δ|/tolerance for each image of a batch of logits [7,10,1,1].
std::vector<float> ratio_per_image(const Tensor& got, const Tensor& expected) {
  REQUIRE(got.shape() == expected.shape());
  std::vector<float> ratios;
  for (int i = 0; i < got.n(); ++i) {
    const Tensor e = expected.batch(i, 1);
    ratios.push_back(max_abs_diff(got.batch(i, 1), e) / tolerance(e));
  }
  return ratios;
}

// Checks each image within its tolerance; `worst` collects the worst with `what`.
void check_images(const Tensor& got, const Tensor& expected, const std::string& what, Worst& worst) {
  const std::vector<float> ratios = ratio_per_image(got, expected);
  for (int i = 0; i < static_cast<int>(ratios.size()); ++i) {
    CAPTURE(i);
    CHECK(ratios[i] <= 1.f);
    worst.update(ratios[i], what + ", image " + std::to_string(i));
  }
}

// (A std::string: doctest prints a const char* as a pointer.)
std::string name_of(Execution e) { return e == Execution::active ? "active" : "dense"; }

// The built backends, named once per test case in the output (so a run
// that checked native alone says so).
std::vector<std::string> backends_reported() {
  std::string all;
  for (const std::string& name : available_backends()) all += (all.empty() ? "" : ", ") + name;
  MESSAGE("backends: " << all);
  return available_backends();
}

// Layer masking of (input, mask) with `fill`, every kind, both executions,
// on every backend, against expected/<dataset>.
void check_layer_masking(Fill fill, const std::string& dataset) {
  require_shipped_weights();
  for (const std::string& name : backends_reported()) {
    const Model model = trained_on(name);
    for (Execution execution : {Execution::active, Execution::dense}) {
      Worst worst;
      for (int kind = 0; kind < kind_count(); ++kind) {
        const std::string what = name + " " + dataset + " " + name_of(execution) + " " + kind_names()[kind];
        INFO(what);
        const Tensor logits = model.classify(model.features_masked(input(), masks(kind), {fill, execution}));
        check_images(logits, expected_of_kind(trained_cases(), "expected/" + dataset, kind), what, worst);
      }
      MESSAGE(name << " " << dataset << " " << name_of(execution) << ": worst |diff|/tolerance " << worst.ratio
                   << " (" << worst.where << ")");
    }
  }
}

// The worst |Δ|/tolerance over the 7 images, per mask kind, of a masked
// forward `features(x, m)` against expected/layer.
std::vector<Worst> worst_per_kind(const std::function<Tensor(const Tensor&, const Mask&)>& features) {
  std::vector<Worst> worst(kind_count());
  for (int kind = 0; kind < kind_count(); ++kind) {
    const Tensor logits = trained_model().classify(features(input(), masks(kind)));
    const Tensor expected = expected_of_kind(trained_cases(), "expected/layer", kind);
    const std::vector<float> ratios = ratio_per_image(logits, expected);
    for (int i = 0; i < static_cast<int>(ratios.size()); ++i)
      worst[kind].update(ratios[i], "image " + std::to_string(i));
  }
  return worst;
}

// The product's layer-masked forward to the end of the stem (conv1, bn1,
// relu, maxpool).
Act masked_stem(const Tensor& x, const Mask& m, const LayerMaskingOptions& opt = {}) {
  const Graph& g = trained_model().graph();
  return run_graph_masked(g, x, m, opt, g.stages.front().second);
}

// A conv of a block with no fill, straight from the spec's Conv2d rule:
// removed inputs hold 0, y = conv(x) (BatchNorm folded in, then ReLU),
// returned as (y * m', m').
Act unfilled_conv(const Act& in, const ConvBN& layer, bool relu_after) {
  const ConvParams& p = layer.conv;
  Tensor y(p.out_shape(in.x.shape()));
  Workspace ws;
  conv2d(y, in.x, layer.weight, layer.bias, p, ws, relu_after);
  const Mask m = in.m.pooled(p.kernel, p.stride, p.padding, p.dilation);
  m.apply(y);
  return {y, m};
}

// The layer-masked features with the product's stem (its fill per
// `stem_fill`) and every residual block run without a fill (the spec's
// bottleneck rule on unfilled convs): with the neighbour fill in the stem,
// exactly "skipping the fill inside the blocks".
Tensor features_unfilled_blocks(const Tensor& x, const Mask& m, Fill stem_fill) {
  const ResNet& net = trained_net();
  REQUIRE(net.stem().bn.empty());  // folded: conv2d's bias and relu are the whole layer
  Act a = masked_stem(x, m, {stem_fill, Execution::active});
  for (const Block& block : net.blocks()) {
    const Act identity = block.has_downsample ? unfilled_conv(a, block.downsample, false) : a;
    Act t = a;
    for (std::size_t i = 0; i < block.convs.size(); ++i)
      t = unfilled_conv(t, block.convs[i], /*relu_after=*/i + 1 < block.convs.size());
    const Mask kept = t.m * identity.m;
    masked_add_relu(t.x, identity.x, kept);
    a = {t.x, kept};
  }
  Tensor f({a.x.n(), a.x.c(), 1, 1});
  masked_avgpool(f, a.x, a.m);
  return f;
}

}  // namespace

TEST_CASE("golden trained: the shipped weights are the file the cases were computed for (sha256)") {
  require_shipped_weights();
  CHECK(kind_count() == 9);
}

TEST_CASE("golden trained: clean logits on every backend") {
  require_shipped_weights();
  const Tensor expected = read_tensor(trained_cases(), "expected/clean");  // [7,10,1,1]
  for (const std::string& name : backends_reported()) {
    const Model model = trained_on(name);
    Worst worst;
    INFO(name << " clean");
    check_images(model.classify(model.features(input())), expected, name + " clean", worst);
    MESSAGE(name << " clean: worst |diff|/tolerance " << worst.ratio << " (" << worst.where << ")");
  }
}

TEST_CASE("golden trained: layer masking (neighbour fill) on every backend, active and dense") {
  check_layer_masking(Fill::neighbour_average, "layer");
}

TEST_CASE("golden trained: layer-renorm (partial convolution) on every backend, active and dense") {
  check_layer_masking(Fill::renorm, "layer_renorm");
}

TEST_CASE("golden trained: the masking methods by name, as the CLI and the studies run them, on every backend") {
  // The product path: make_masking_method(name)->logits(Model, img01, m),
  // which paints (grey: the model's mean colour) or normalises input_01
  // itself; layer-dense is the dense execution's name.
  require_shipped_weights();
  // The golden `input` is input_01 normalised with the model's mean/std: if
  // these differ, greyout (the mean colour) and every method here fail.
  Tensor normalised = input01().clone();
  normalize(normalised, trained_model().meta().mean, trained_model().meta().std);
  CHECK(max_abs_diff(normalised, input()) <= 1e-5f);

  // Input masking on every kind. The layer methods are checked on every
  // kind and execution by the two cases above; here only that each name
  // reaches its fill and execution from input_01, on two kinds that leave
  // holes inside the blocks (so a wrong fill there shows).
  const std::vector<int> every_kind = [] {
    std::vector<int> all(kind_count());
    for (int k = 0; k < kind_count(); ++k) all[k] = k;
    return all;
  }();
  const std::vector<int> kinds_with_holes = {kind_index("patch85_4px"), kind_index("object_removed")};
  struct MethodCase {
    std::string method;   // make_masking_method's name
    std::string dataset;  // expected/<dataset>
    const std::vector<int>& kinds;
  };
  const MethodCase cases[] = {{"grey", "greyout", every_kind},
                              {"black", "blackout", every_kind},
                              {"layer", "layer", kinds_with_holes},
                              {"layer-dense", "layer", kinds_with_holes},
                              {"layer-renorm", "layer_renorm", kinds_with_holes}};
  for (const std::string& name : backends_reported()) {
    const Model model = trained_on(name);
    for (const MethodCase& c : cases) {
      const auto method = make_masking_method(c.method);
      Worst worst;
      for (int kind : c.kinds) {
        const std::string what = name + " " + c.method + " " + kind_names()[kind];
        INFO(what);
        const Tensor logits = method->logits(model, input01(), masks(kind));
        check_images(logits, expected_of_kind(trained_cases(), "expected/" + c.dataset, kind), what, worst);
      }
      MESSAGE(name << " " << c.method << " vs expected/" << c.dataset << ": worst |diff|/tolerance " << worst.ratio
                   << " (" << worst.where << ")");
    }
  }
}

TEST_CASE("golden trained: skipping the fill misses expected/layer by 10x or more on at least 6 of the 9 kinds") {
  // Shows the comparison catches a wrong fill: Fill::none leaves removed
  // positions at 0 in every conv, the stem's and the blocks'. (It misses on
  // all 9 kinds: the stem's fill alone matters. The next case isolates the
  // blocks'.)
  require_shipped_weights();
  const std::vector<Worst> worst = worst_per_kind([](const Tensor& x, const Mask& m) {
    return trained_model().features_masked(x, m, {Fill::none, Execution::active});
  });
  int missed_10x = 0;
  for (int kind = 0; kind < kind_count(); ++kind) {
    MESSAGE("no fill, " << kind_names()[kind] << ": worst |diff|/tolerance " << worst[kind].ratio << " ("
                        << worst[kind].where << ")");
    missed_10x += worst[kind].ratio >= 10.f;
  }
  CHECK(missed_10x >= 6);
}

TEST_CASE("golden trained: skipping only the fill inside the blocks misses by 10x or more on at least 6 kinds") {
  // The reason for this golden file: the stem's fill alone is not enough.
  // README: on the other 3 kinds the stem leaves no hole inside the blocks.
  require_shipped_weights();
  // The unfilled blocks are the test's own code: first, with no fill in the
  // stem either, they must be the product's Fill::none forward.
  for (int kind : {kind_index("patch30_4px"), kind_index("disk")}) {
    CAPTURE(kind_names()[kind]);
    const Tensor ours = features_unfilled_blocks(input(), masks(kind), Fill::none);
    const Tensor product = trained_model().features_masked(input(), masks(kind), {Fill::none, Execution::active});
    CHECK(max_abs_diff(ours, product) <= 1e-4f * std::max(1.f, max_abs(product)));
  }
  const std::vector<Worst> worst = worst_per_kind([](const Tensor& x, const Mask& m) {
    return features_unfilled_blocks(x, m, Fill::neighbour_average);
  });
  int missed_10x = 0;
  for (int kind = 0; kind < kind_count(); ++kind) {
    // Does any image's mask still have a removed position after the stem?
    const bool holes = !masked_stem(input(), masks(kind)).m.all_visible();
    const std::string blocks = holes ? "holes in the blocks" : "no holes in the blocks";
    MESSAGE("stem filled, blocks unfilled, " << kind_names()[kind] << " (" << blocks << "): worst |diff|/tolerance "
                                             << worst[kind].ratio << " (" << worst[kind].where << ")");
    missed_10x += worst[kind].ratio >= 10.f;
    // Without holes there is nothing for the block fill to do: the result
    // is the correct layer masking.
    if (!holes) CHECK(worst[kind].ratio <= 1.f);
  }
  CHECK(missed_10x >= 6);
}
