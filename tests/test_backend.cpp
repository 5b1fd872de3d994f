// test_backend.cpp — the clean conv, pooling and linear graphs of a ResNet
// on every built backend against the native ops called directly, then the
// whole ResNet-50 as a Model on every backend against PyTorch's golden
// logits. (Every
// op, clean and masked, against the spec's literal rendering:
// test_op_table.cpp.)
//
// One small case struct per op, a table of awkward shapes (odd sizes, prime
// channel counts, stride 2, 1x1, the residual sum in place and as a copy),
// every parameter printed on failure. Tolerance: 1e-3 absolute, on outputs
// kept O(1) by weights scaled with 1/sqrt(fan-in).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "golden.h"
#include "graph_cases.h"
#include "lmask/backend.h"
#include "lmask/error.h"
#include "lmask/mask_builders.h"
#include "lmask/model.h"
#include "lmask/resnet.h"
#include "reference_ops.h"

using namespace lmask;
using lmask::testing::add_conv;
using lmask::testing::add_relu;
using lmask::testing::golden_cases;
using lmask::testing::golden_model;
using lmask::testing::golden_net;
using lmask::testing::golden_path;
using lmask::testing::random_tensor;
using lmask::testing::read_tensor;
using lmask::testing::weights_for;

namespace {

constexpr float kTolerance = 1e-3f;

// The golden ResNet-50 on backend `name`, as the CLI runs it (Model::use_backend).
Model golden_on(const std::string& name) { return Model::load(golden_path("resnet50_random.h5"), {name}); }

// Runs `check` with every built backend running graph `g`.
template <typename Check>
void for_each_graph_backend(const Graph& g, Check check) {
  for (const std::string& name : available_backends()) {
    CAPTURE(name);
    auto backend = make_backend(name, g);
    check(*backend);
  }
}

// ---- conv: bias, relu, and the residual sum ------------------------------

enum class Residual {
  none,
  input,  // y = conv(x) + x: the identity is the caller's input, copied first
  conv,   // y = conv(x) + conv'(x): summed in place into the earlier conv's memory
};

struct ConvCase {
  int n, in, out, h, w, k, s, p, d, g;
  bool bias, relu;
  Residual residual;
};

std::string describe(const ConvCase& c) {
  std::ostringstream os;
  os << "conv n=" << c.n << " in=" << c.in << " out=" << c.out << " h=" << c.h << " w=" << c.w
     << " k=" << c.k << " s=" << c.s << " p=" << c.p << " d=" << c.d << " g=" << c.g
     << " bias=" << c.bias << " relu=" << c.relu << " residual="
     << (c.residual == Residual::none ? "none" : c.residual == Residual::input ? "input" : "conv");
  return os.str();
}

void check_conv(const ConvCase& c, std::uint32_t seed) {
  INFO(describe(c));
  CAPTURE(seed);
  ConvParams p;
  p.in_channels = c.in, p.out_channels = c.out, p.kernel = c.k, p.stride = c.s;
  p.padding = c.p, p.dilation = c.d, p.groups = c.g;
  const int fan_in = p.col_rows();
  const Tensor x = random_tensor({c.n, c.in, c.h, c.w}, seed);
  const Tensor w = weights_for(p.weight_shape(), fan_in, seed + 1);
  const Tensor b = random_tensor({1, c.out, 1, 1}, seed + 2);
  const Tensor w2 = weights_for(p.weight_shape(), fan_in, seed + 3);  // the other branch
  const Tensor b2 = random_tensor({1, c.out, 1, 1}, seed + 4);

  // The oracle: native conv2d, then add for the residual join. The graph:
  // [the other branch's conv,] the conv, [add,] [relu], which backends fuse
  // into the conv's epilogue.
  Workspace ws;
  Tensor want(p.out_shape(x.shape()));
  Graph g;
  g.in_channels = c.in;
  int t = 0;
  if (c.residual == Residual::none) {
    conv2d(want, x, w, c.bias ? b : Tensor(), p, ws, c.relu);
    t = add_conv(g, 0, p, w, c.bias ? b : Tensor());
  } else {
    conv2d(want, x, w, c.bias ? b : Tensor(), p, ws, false);
    Tensor identity = x;
    int r = 0;
    if (c.residual == Residual::conv) {
      identity = Tensor(want.shape());
      conv2d(identity, x, w2, b2, p, ws, false);
      r = add_conv(g, 0, p, w2, b2);
    }
    REQUIRE(identity.shape() == want.shape());  // a table entry that cannot have a residual
    add(want, identity, c.relu);
    t = g.add(Node(Op::add, {add_conv(g, 0, p, w, c.bias ? b : Tensor()), r}, "add"));
  }
  g.output = c.relu ? add_relu(g, t) : t;

  const Tensor x_before = x.clone();
  for_each_graph_backend(g, [&](Backend& backend) {
    const Tensor got = backend.forward(x);
    REQUIRE(got.shape() == want.shape());
    const float diff = max_abs_diff(got, want);
    CAPTURE(diff);
    CHECK(diff <= kTolerance);
    CHECK(max_abs_diff(x, x_before) == 0.f);  // the input is read only
    // A second run reuses the prepared plan and must give the same values.
    CHECK(max_abs_diff(backend.forward(x), got) == 0.f);
  });
}

// ---- pooling and linear ----------------------------------------------------

struct PoolCase {
  bool max;  // false: global average
  int n, c, h, w, k, s, p;
};

std::string describe(const PoolCase& c) {
  std::ostringstream os;
  os << (c.max ? "maxpool" : "global_avgpool") << " n=" << c.n << " c=" << c.c << " h=" << c.h
     << " w=" << c.w << " k=" << c.k << " s=" << c.s << " p=" << c.p;
  return os.str();
}

void check_pool(const PoolCase& c, std::uint32_t seed) {
  INFO(describe(c));
  CAPTURE(seed);
  // All negative: a padding that wrongly counted as 0 would win every border max.
  const Tensor x = random_tensor({c.n, c.c, c.h, c.w}, seed, -2.f, -1.f);
  Node pool(c.max ? Op::maxpool : Op::global_avgpool, {0}, "pool");
  pool.pool.kernel = c.k, pool.pool.stride = c.s, pool.pool.padding = c.p;
  Tensor want;
  if (c.max) {
    want = Tensor({c.n, c.c, pool_out_size(c.h, c.k, c.s, c.p), pool_out_size(c.w, c.k, c.s, c.p)});
    maxpool2d(want, x, c.k, c.s, c.p);
  } else {
    want = Tensor({c.n, c.c, 1, 1});
    adaptive_avgpool2d(want, x);
  }
  Graph g;
  g.in_channels = c.c;
  g.output = g.add(pool);
  for_each_graph_backend(g, [&](Backend& backend) {
    const Tensor got = backend.forward(x);
    REQUIRE(got.shape() == want.shape());
    const float diff = max_abs_diff(got, want);
    CAPTURE(diff);
    CHECK(diff <= kTolerance);
  });
}

}  // namespace

TEST_CASE("backend: registry lists native last and refuses unknown names") {
  const std::vector<std::string> built = available_backends();
  REQUIRE(!built.empty());
  CHECK(built.back() == "native");
  MESSAGE("built backends, fastest first: " << built.front() << " ... native (" << built.size() << ")");
  CHECK_THROWS_AS(make_backend("no-such-backend", golden_model().graph()), InputError);
}

TEST_CASE("backend: conv with bias, relu, residual sum, stride 2 and 1x1 against native conv2d") {
  const std::vector<ConvCase> cases = {
      // n  in out  h   w  k  s  p  d  g  bias   relu   residual
      {1, 3, 8, 9, 7, 3, 1, 1, 1, 1, true, true, Residual::none},       // odd sizes
      {2, 13, 17, 9, 7, 3, 2, 1, 1, 1, true, true, Residual::none},     // stride 2, prime channels
      {1, 16, 32, 8, 8, 1, 1, 0, 1, 1, true, false, Residual::none},    // 1x1
      {2, 13, 24, 11, 5, 1, 2, 0, 1, 1, true, false, Residual::none},   // 1x1 stride 2 (downsample)
      {1, 3, 16, 23, 17, 7, 2, 3, 1, 1, true, true, Residual::none},    // the stem: 7x7/2 on 3 channels
      {2, 3, 64, 32, 32, 7, 2, 3, 1, 1, true, true, Residual::none},    // the stem at full width
      {1, 12, 12, 7, 9, 3, 1, 2, 2, 1, true, true, Residual::none},     // dilation 2
      {2, 16, 16, 6, 6, 3, 1, 1, 1, 4, true, true, Residual::none},     // groups (ResNeXt)
      {1, 5, 7, 4, 4, 3, 1, 0, 1, 1, false, false, Residual::none},     // no bias, no padding
      {1, 6, 10, 13, 11, 5, 3, 2, 1, 1, true, true, Residual::none},    // 5x5 stride 3
      {1, 4, 6, 8, 8, 3, 2, 0, 1, 1, true, false, Residual::none},      // last row/column unread
      {3, 8, 8, 1, 1, 1, 1, 0, 1, 1, true, true, Residual::none},       // 1x1 image
      {1, 16, 16, 9, 7, 3, 1, 1, 1, 1, true, true, Residual::input},    // identity = input: copied
      {1, 7, 7, 5, 5, 1, 1, 0, 1, 1, false, true, Residual::input},     // ... 1x1, no bias
      {2, 13, 32, 9, 7, 1, 1, 0, 1, 1, true, true, Residual::conv},     // bottleneck conv3: sum in place
      {1, 64, 256, 14, 14, 1, 1, 0, 1, 1, true, true, Residual::conv},  // ... at ResNet widths
      {2, 13, 17, 9, 7, 3, 2, 1, 1, 1, true, false, Residual::conv},    // stride 2 sum, no relu
      {1, 32, 32, 7, 7, 3, 1, 1, 1, 1, true, true, Residual::conv},     // basic block conv2
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    CAPTURE(i);
    check_conv(cases[i], static_cast<std::uint32_t>(300 + 10 * i));
  }
}

TEST_CASE("backend: max-pool and global average pool against native") {
  const std::vector<PoolCase> cases = {
      // max  n   c    h    w  k  s  p
      {true, 1, 64, 112, 112, 3, 2, 1},  // the ResNet stem pool
      {true, 2, 13, 9, 7, 3, 2, 1},      // odd sizes
      {true, 1, 5, 8, 8, 2, 2, 0},       // no padding
      {true, 2, 3, 10, 6, 3, 1, 1},      // stride 1
      {true, 1, 7, 5, 5, 3, 3, 1},       // stride 3: windows mostly padding
      {true, 3, 16, 1, 1, 3, 2, 1},      // 1x1 image: each window holds one value
      {false, 2, 13, 9, 7, 0, 0, 0},     // odd sizes
      {false, 1, 2048, 7, 7, 0, 0, 0},   // the ResNet-50 head
      {false, 3, 5, 1, 1, 0, 0, 0},      // already 1x1
      {false, 1, 64, 5, 8, 0, 0, 0},     // non-square (160x256 input's last stage)
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    CAPTURE(i);
    check_pool(cases[i], static_cast<std::uint32_t>(700 + 10 * i));
  }
}

TEST_CASE("backend: linear against native") {
  struct LinearCase { int n, in, out; };
  for (const LinearCase c : {LinearCase{3, 2048, 1000}, LinearCase{1, 13, 7}, LinearCase{5, 64, 10}}) {
    INFO("linear n=" << c.n << " in=" << c.in << " out=" << c.out);
    const Tensor x = random_tensor({c.n, c.in, 1, 1}, 900 + c.in);
    const Tensor w = weights_for({c.out, c.in, 1, 1}, c.in, 901 + c.in);
    const Tensor b = random_tensor({1, c.out, 1, 1}, 902 + c.in);
    Tensor want({c.n, c.out, 1, 1});
    linear(want, x, w, b);
    Graph g;
    g.in_channels = c.in;
    Node fc(Op::linear, {0}, "fc");
    fc.weight = w, fc.bias = b;
    g.output = g.add(fc);
    for_each_graph_backend(g, [&](Backend& backend) {
      const float diff = max_abs_diff(backend.forward(x), want);
      CAPTURE(diff);
      CHECK(diff <= kTolerance);
    });
  }
}

TEST_CASE("backend: ResNet-50 clean logits match PyTorch within 1e-3 on every backend") {
  const Tensor x = read_tensor(golden_cases(), "input");  // [3,3,224,224]
  const Tensor expected = read_tensor(golden_cases(), "expected/clean");
  const Tensor x_ns = read_tensor(golden_cases(), "nonsquare/input");  // 160x256
  const Tensor expected_ns = read_tensor(golden_cases(), "nonsquare/expected_clean");
  for (const std::string& name : available_backends()) {
    CAPTURE(name);
    const Model model = golden_on(name);
    REQUIRE(model.backend_name() == name);
    const float diff = max_abs_diff(model.forward(x), expected);
    const float diff_ns = max_abs_diff(model.forward(x_ns), expected_ns);
    // Back at the first shape: its prepared plan must still be right.
    const float diff_again = max_abs_diff(model.forward(x), expected);
    MESSAGE(name << ": max |diff| " << diff << " (3x224x224), " << diff_ns << " (160x256), "
                 << diff_again << " (224x224 again)");
    CHECK(diff <= kTolerance);
    CHECK(diff_ns <= kTolerance);
    CHECK(diff_again <= kTolerance);
  }
}

TEST_CASE("backend: ResNet-50 pooled features and batch-1 logits agree with native") {
  const Tensor x = read_tensor(golden_cases(), "input").batch(1, 1);
  const Tensor expected = read_tensor(golden_cases(), "expected/clean").batch(1, 1);
  const Tensor want = golden_model().features(x);
  for (const std::string& name : available_backends()) {
    CAPTURE(name);
    const Model model = golden_on(name);
    const Tensor got = model.features(x);
    REQUIRE(got.shape() == want.shape());
    const float diff = max_abs_diff(got, want);
    const float diff_logits = max_abs_diff(model.forward(x), expected);
    MESSAGE(name << ": features max |diff| " << diff << ", batch-1 logits " << diff_logits);
    CHECK(diff <= kTolerance);
    CHECK(diff_logits <= kTolerance);
  }
}

TEST_CASE("backend: ResNet-50 layer-masked logits match PyTorch and native on every backend") {
  const Tensor x = read_tensor(golden_cases(), "input");
  const auto& kinds = lmask::testing::golden_mask_kinds();
  for (const std::string& name : available_backends()) {
    CAPTURE(name);
    const Model model = golden_on(name);
    for (int kind = 0; kind < static_cast<int>(kinds.size()); ++kind) {
      CAPTURE(kinds[kind]);
      const Mask m = lmask::testing::golden_masks(golden_cases(), kind);
      const Tensor expected = lmask::testing::golden_expected(golden_cases(), "layer", kind);
      const float diff = max_abs_diff(model.forward_masked(x, m), expected);
      MESSAGE(name << " " << kinds[kind] << ": max |diff| " << diff);
      CHECK(diff <= kTolerance);
    }
    // No golden vectors for the renormalised variant: native is the reference.
    const Mask m = lmask::testing::golden_masks(golden_cases(), 0);
    const LayerMaskingOptions renorm{Fill::renorm, Execution::active};
    CHECK(max_abs_diff(model.features_masked(x, m, renorm), golden_model().features_masked(x, m, renorm)) <=
          kTolerance);
  }
}

TEST_CASE("backend: layer masking with every fill on mixed masks in one batch agrees with native") {
  // One batch: all removed, a 90%-removed patch mask, all visible. The oneDNN
  // backend runs the blocks on visible rows (masked_rows.h), including the
  // stride-2 blocks and an image with no visible row; native is the reference.
  const Tensor x = read_tensor(golden_cases(), "input");
  const Mask m = stack_masks({Mask::removed(1, 224, 224), random_patch_mask(224, 224, 16, 0.9, 7),
                              Mask::visible(1, 224, 224)});
  const Tensor fc_bias = golden_model().classify(Tensor({1, 2048, 1, 1}));
  for (const std::string& name : available_backends()) {
    const Model model = golden_on(name);
    for (Fill fill : {Fill::neighbour_average, Fill::none, Fill::renorm}) {
      CAPTURE(name);
      CAPTURE(static_cast<int>(fill));
      const LayerMaskingOptions opt{fill, Execution::active};
      const Tensor got = model.forward_masked(x, m, opt), expected = golden_model().forward_masked(x, m, opt);
      // Relative to the logits' scale: renorm's 1/c, compounded over 50
      // convs, takes this random net's logits to about 1e4 on the patch
      // mask, where native with two different SGEMMs differs by 2e-2.
      CHECK(max_abs_diff(got, expected) <= kTolerance * std::max(1.f, max_abs(expected)));
      // The spec's consequences: all removed gives fc.bias; all visible, the
      // clean forward (not for renorm, where zero padding counts as removed).
      CHECK(max_abs_diff(got.batch(0, 1), fc_bias) == 0.f);
      if (fill != Fill::renorm) {
        const Tensor clean = golden_model().forward(x.batch(2, 1));
        CHECK(max_abs_diff(got.batch(2, 1), clean) <= kTolerance);
        CHECK(max_abs_diff(model.forward_masked(x.batch(2, 1), Mask::visible(1, 224, 224), opt), clean) <=
              kTolerance);
      }
    }
  }
}

TEST_CASE("backend: a backend holding the weights runs on after the model hands them over") {
  // What the CLI does (open_backend): one copy of the weights, the backend's.
  const Tensor x = read_tensor(golden_cases(), "input");
  const Mask m = lmask::testing::golden_masks(golden_cases(), 0);
  for (const std::string& name : available_backends()) {
    CAPTURE(name);
    const Model model = golden_on(name);
    bool kept = false;  // any conv weight still in the model's graph
    for (const Node& node : model.graph().nodes) kept |= node.op == Op::conv2d && !node.weight.empty();
    if (kept) continue;  // this backend does not hold the weights
    CHECK(max_abs_diff(model.forward(x), golden_model().forward(x)) <= kTolerance);
    CHECK(max_abs_diff(model.forward_masked(x, m), golden_model().forward_masked(x, m)) <= kTolerance);
    // Dense execution runs natively, on a graph rebuilt from the backend's weights.
    const LayerMaskingOptions dense{Fill::neighbour_average, Execution::dense};
    CHECK(max_abs_diff(model.forward_masked(x, m, dense), golden_model().forward_masked(x, m, dense)) <=
          kTolerance);
  }
}

TEST_CASE("backend: a backend made from the ResNet builder's graph (epilogues not fused) runs as the model does") {
  const Graph graph = golden_net().graph();
  const Tensor x = random_tensor({2, 3, 64, 48}, 77);
  const Mask m = lmask::testing::random_mask(2, 64, 48, 0.6, 78);
  const Tensor want = golden_model().forward_masked(x, m);
  for (const std::string& name : available_backends()) {
    CAPTURE(name);
    auto backend = make_backend(name, graph);
    CHECK(max_abs_diff(backend->forward_masked(x, m, {}), want) <= kTolerance);
    CHECK(max_abs_diff(backend->forward(x), golden_model().forward(x)) <= kTolerance);
  }
}

TEST_CASE("backend: a graph with BatchNorm as its own nodes runs as the folded network does") {
  // What a graph from elsewhere may hold: the backends run the batchnorm
  // nodes (oneDNN's visible rows, which read folded convs, do not match them).
  const ResNet unfolded = ResNet::load(golden_path("resnet50_random.h5"), LoadOptions{/*fold_bn=*/false});
  const Tensor x = random_tensor({2, 3, 64, 48}, 91);
  const Mask m = lmask::testing::random_mask(2, 64, 48, 0.6, 92);
  for (const std::string& name : available_backends()) {
    CAPTURE(name);
    if (name == "cuda") {  // no batchnorm kernel yet: refused, naming the node
      CHECK_THROWS_AS(make_backend(name, unfolded.graph()), Unsupported);
      continue;
    }
    auto backend = make_backend(name, unfolded.graph());
    CHECK(max_abs_diff(backend->forward(x), golden_model().forward(x)) <= kTolerance);
    CHECK(max_abs_diff(backend->forward_masked(x, m, {}), golden_model().forward_masked(x, m)) <= kTolerance);
  }
}
