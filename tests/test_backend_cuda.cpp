// test_backend_cuda.cpp — the CUDA backend against the native one and the
// spec (built into lmask_cuda_tests only with -DLMASK_CUDA=ON; skipped
// without a GPU, see test_main_cuda.cpp).
//
// Every op the backend runs, as a small graph on awkward shapes (odd sizes,
// prime channel counts, strides 2 and 3, 1x1, the 7x7 stem, dilation,
// groups, both residual paths), through make_backend("cuda", graph): clean
// against the native ops, layer-masked against the spec composed from the
// native reference ops (fill_reference, conv2d, Mask::pooled, the residual
// rule, maxpool2d, masked_avgpool), for every fill and both executions;
// the unfused ops (relu, add, flatten) against the literal rule
// (literal_masked.h). Then whole ResNet-50s: the golden one (clean and
// layer-masked, also against PyTorch's logits) and the shipped one at
// 224x224. The zoo's ops: test_zoo_ops_cuda.cpp; its models:
// test_golden_zoo_cuda.cpp. Tolerance 1e-3 absolute on outputs kept O(1), as in
// test_backend.cpp. (The op table, test_op_table.cpp, runs every op on
// cuda too where a GPU is.)
#include <doctest/doctest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "conv_cases.h"
#include "golden.h"
#include "graph_cases.h"
#include "lmask/backend.h"
#include "lmask/mask_builders.h"
#include "lmask/resnet.h"
#include "literal_masked.h"
#include "lmask/model.h"
#include "reference_ops.h"

using namespace lmask;
using lmask::testing::add_conv;
using lmask::testing::add_relu;
using lmask::testing::ConvCase;
using lmask::testing::describe;
using lmask::testing::golden_model;
using lmask::testing::golden_path;
using lmask::testing::params_of;
using lmask::testing::random_mask;
using lmask::testing::random_tensor;
using lmask::testing::read_tensor;
using lmask::testing::weights_for;

namespace {

constexpr float kTolerance = 1e-3f;

const std::vector<ConvCase>& conv_cases() {
  static const std::vector<ConvCase> cases = {
      // n  in  out  h   w  k  s  p  d  g
      {1, 3, 8, 9, 7, 3, 1, 1, 1, 1},       // odd sizes
      {2, 13, 17, 9, 7, 3, 2, 1, 1, 1},     // stride 2, prime channels
      {1, 16, 32, 8, 8, 1, 1, 0, 1, 1},     // 1x1 (reads the input in place)
      {2, 13, 24, 11, 5, 1, 2, 0, 1, 1},    // 1x1 stride 2 (downsample)
      {2, 3, 64, 32, 32, 7, 2, 3, 1, 1},    // the stem
      {1, 12, 12, 7, 9, 3, 1, 2, 2, 1},     // dilation 2
      {2, 16, 16, 6, 6, 3, 1, 1, 1, 4},     // groups (ResNeXt)
      {1, 6, 10, 13, 11, 5, 3, 2, 1, 1},    // 5x5 stride 3
      {1, 4, 6, 8, 8, 3, 2, 0, 1, 1},       // last row/column unread
      {3, 8, 8, 1, 1, 1, 1, 0, 1, 1},       // 1x1 image
      {1, 64, 256, 14, 14, 1, 1, 0, 1, 1},  // ResNet widths
  };
  return cases;
}

// Graphs of one conv, fused by the backend as a ResNet's are.
Graph conv_relu_graph(const ConvParams& p, const Tensor& w, const Tensor& b) {  // relu(conv(x) + b)
  Graph g;
  g.in_channels = p.in_channels;
  g.output = add_relu(g, add_conv(g, 0, p, w, b));
  return g;
}
Graph join_graph(const ConvParams& p, const Tensor& w, const Tensor& b, const Tensor& w2) {  // relu(conv(x) + b + conv'(x))
  Graph g;
  g.in_channels = p.in_channels;
  const int other = add_conv(g, 0, p, w2, Tensor());
  const int conv = add_conv(g, 0, p, w, b);
  g.output = add_relu(g, g.add(Node(Op::add, {conv, other}, "add")));
  return g;
}

// The spec's masked conv from native reference ops: (y * m', m').
Act masked_conv_oracle(const Tensor& x, const Mask& m, const Tensor& w, const Tensor& b, const ConvParams& p,
                       Fill fill, bool relu) {
  Workspace ws;
  Tensor xm = x.clone();
  m.apply(xm);
  Mask m_out = m.pooled(p.kernel, p.stride, p.padding, p.dilation);
  Tensor y(p.out_shape(x.shape()));
  if (fill == Fill::renorm) {
    const std::vector<int> all = Mask::visible(y.n(), y.h(), y.w()).visible_positions();
    const std::vector<float> inv = renorm_inv_scale(m, p, all);
    conv2d_at(y, xm, w, b, p, all, ws, relu, inv.data());
  } else {
    if (fill == Fill::neighbour_average) fill_reference(xm, m, p.kernel);
    conv2d(y, xm, w, b, p, ws, relu);
  }
  m_out.apply(y);
  return {y, m_out};
}

const char* fill_name(Fill f) {
  return f == Fill::neighbour_average ? "neighbour_average" : f == Fill::none ? "none" : "renorm";
}

void check_close(const Tensor& got, const Tensor& want) {
  REQUIRE(got.shape() == want.shape());
  const float diff = max_abs_diff(got, want);
  CAPTURE(diff);
  CHECK(diff <= kTolerance);
}

// What make_backend("cuda", g) threw, "" when nothing.
std::string refusal(const Graph& g) {
  try {
    make_backend("cuda", g);
  } catch (const Unsupported& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("cuda: the backend is offered first, takes every op of the zoo and refuses a second input, naming it") {
  const auto built = available_backends();
  REQUIRE(!built.empty());
  CHECK(built.front() == "cuda");
  {  // a second input node: nothing to upload into it
    Graph g;
    g.in_channels = 2;
    const int second = g.add(Node(Op::input, {}, "x2"));
    g.output = g.add(Node(Op::add, {0, second}, "add"));
    const std::string why = refusal(g);
    CAPTURE(why);
    CHECK(why.find("graph node 1 (input 'x2')") != std::string::npos);
  }
  {  // batchnorm and a conv's fused sigmoid, refused before the zoo's kernels: taken now
    ConvParams p;
    p.in_channels = 2, p.out_channels = 3, p.kernel = 3, p.padding = 1;
    Graph g;
    g.in_channels = 2;
    Node bn(Op::batchnorm, {0}, "bn1");
    bn.bn.gamma = Tensor::filled({1, 2, 1, 1}, 1.f), bn.bn.beta = Tensor({1, 2, 1, 1});
    bn.bn.mean = Tensor({1, 2, 1, 1}), bn.bn.var = Tensor::filled({1, 2, 1, 1}, 1.f);
    Node sigmoid(Op::activation,
                 {add_conv(g, g.add(bn), p, weights_for(p.weight_shape(), p.col_rows(), 1), Tensor())}, "sigmoid");
    sigmoid.activation = Activation::sigmoid;
    g.output = g.add(sigmoid);
    CHECK(refusal(g).empty());
  }
}

TEST_CASE("cuda: conv with bias, relu and both residual paths against native conv2d") {
  for (std::size_t i = 0; i < conv_cases().size(); ++i) {
    const ConvCase& c = conv_cases()[i];
    INFO(describe(c));
    const ConvParams p = params_of(c);
    const std::uint32_t seed = 300 + 10 * std::uint32_t(i);
    const Tensor x = random_tensor({c.n, c.in, c.h, c.w}, seed);
    const Tensor w = weights_for(p.weight_shape(), p.col_rows(), seed + 1);
    const Tensor b = random_tensor({1, c.out, 1, 1}, seed + 2);
    const Tensor w2 = weights_for(p.weight_shape(), p.col_rows(), seed + 3);
    Workspace ws;
    Tensor plain(p.out_shape(x.shape())), other(plain.shape());
    conv2d(plain, x, w, b, p, ws, false);
    conv2d(other, x, w2, Tensor(), p, ws, false);
    {  // y = relu(conv(x) + b)
      Tensor want = plain.clone();
      relu(want);
      check_close(make_backend("cuda", conv_relu_graph(p, w, b))->forward(x), want);
    }
    {  // y = relu(conv(x) + b + conv'(x)): the bottleneck's join
      Tensor want = plain.clone();
      add(want, other, true);
      check_close(make_backend("cuda", join_graph(p, w, b, w2))->forward(x), want);
    }
    if (plain.shape() == x.shape()) {  // y = conv(x) + b + x: the identity path, no relu
      Graph g;
      g.in_channels = c.in;
      g.output = g.add(Node(Op::add, {add_conv(g, 0, p, w, b), 0}, "add"));
      Tensor want = plain.clone();
      add(want, x, false);
      check_close(make_backend("cuda", g)->forward(x), want);
    }
  }
}

TEST_CASE("cuda: max-pool, global average pool and linear against native") {
  struct PoolCase { int n, c, h, w, k, s, p; };
  for (const PoolCase c : {PoolCase{1, 64, 112, 112, 3, 2, 1}, PoolCase{2, 13, 9, 7, 3, 2, 1},
                           PoolCase{1, 5, 8, 8, 2, 2, 0}, PoolCase{1, 7, 5, 5, 3, 3, 1},
                           PoolCase{3, 16, 1, 1, 3, 2, 1}}) {
    INFO("maxpool n=" << c.n << " c=" << c.c << " h=" << c.h << " w=" << c.w << " k=" << c.k << " s=" << c.s);
    const Tensor x = random_tensor({c.n, c.c, c.h, c.w}, 700 + c.c, -2.f, -1.f);  // padding must not win
    Graph g;
    g.in_channels = c.c;
    Node pool(Op::maxpool, {0}, "maxpool");
    pool.pool.kernel = c.k, pool.pool.stride = c.s, pool.pool.padding = c.p;
    g.output = g.add(pool);
    Tensor want({c.n, c.c, pool_out_size(c.h, c.k, c.s, c.p), pool_out_size(c.w, c.k, c.s, c.p)});
    maxpool2d(want, x, c.k, c.s, c.p);
    check_close(make_backend("cuda", g)->forward(x), want);
  }
  for (const Shape s : {Shape{2, 13, 9, 7}, Shape{1, 2048, 7, 7}, Shape{3, 5, 1, 1}}) {
    INFO("global_avgpool " << s.str());
    const Tensor x = random_tensor(s, 800 + s.c);
    Graph g;
    g.in_channels = s.c;
    g.output = g.add(Node(Op::global_avgpool, {0}, "avgpool"));
    Tensor want({s.n, s.c, 1, 1});
    adaptive_avgpool2d(want, x);
    check_close(make_backend("cuda", g)->forward(x), want);
  }
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
    check_close(make_backend("cuda", g)->forward(x), want);
  }
}

TEST_CASE("cuda: masked conv (fill, mask pooling, active and dense) and the residual join against the spec") {
  for (std::size_t i = 0; i < conv_cases().size(); ++i) {
    const ConvCase& c = conv_cases()[i];
    const ConvParams p = params_of(c);
    const std::uint32_t seed = 500 + 10 * std::uint32_t(i);
    const Tensor x = random_tensor({c.n, c.in, c.h, c.w}, seed);
    const Tensor w = weights_for(p.weight_shape(), p.col_rows(), seed + 1);
    const Tensor b = random_tensor({1, c.out, 1, 1}, seed + 2);
    const Tensor w2 = weights_for(p.weight_shape(), p.col_rows(), seed + 3);
    auto single = make_backend("cuda", conv_relu_graph(p, w, b));
    auto joined = make_backend("cuda", join_graph(p, w, b, w2));
    for (double density : {0.0, 0.3, 0.7, 0.95, 1.0})
      for (Fill fill : {Fill::neighbour_average, Fill::none, Fill::renorm})
        for (Execution e : {Execution::active, Execution::dense}) {
          INFO(describe(c) << " density=" << density << " fill=" << fill_name(fill)
                           << " execution=" << (e == Execution::active ? "active" : "dense"));
          const Mask m = random_mask(c.n, c.h, c.w, density, seed + 7);
          const LayerMaskingOptions opt{fill, e};
          // One conv with its ReLU.
          check_close(single->forward_masked(x, m, opt), masked_conv_oracle(x, m, w, b, p, fill, true).x);
          // A branch conv joined with a second conv's output:
          // m_out = mo * mi, y = relu((o + i) * m_out) * m_out.
          const Act identity = masked_conv_oracle(x, m, w2, Tensor(), p, fill, false);
          Act branch = masked_conv_oracle(x, m, w, b, p, fill, false);
          const Mask m_out = branch.m * identity.m;
          add(branch.x, identity.x, true);
          m_out.apply(branch.x);
          check_close(joined->forward_masked(x, m, opt), branch.x);
        }
  }
}

TEST_CASE("cuda: masked max-pool and masked average pool against the spec") {
  // maxpool (the features) -> global average pool (the output).
  Graph g;
  g.in_channels = 13;
  Node pool(Op::maxpool, {0}, "maxpool");
  pool.pool.kernel = 3, pool.pool.stride = 2, pool.pool.padding = 1;
  g.features = g.add(pool);
  g.output = g.add(Node(Op::global_avgpool, {g.features}, "avgpool"));
  auto backend = make_backend("cuda", g);
  for (double density : {0.0, 0.4, 1.0}) {
    INFO("density=" << density);
    const Tensor x = random_tensor({2, 13, 9, 7}, 1100, -2.f, -1.f);
    const Mask m = random_mask(2, 9, 7, density, 1101);
    Tensor xm = x.clone();
    m.apply(xm);
    const Mask pm = m.pooled(3, 2, 1);
    Tensor pooled({2, 13, pm.h(), pm.w()});
    maxpool2d(pooled, xm, 3, 2, 1);
    pm.apply(pooled);
    Tensor mean({2, 13, 1, 1});
    masked_avgpool(mean, pooled, pm);
    check_close(backend->features_masked(x, m, {}), pooled);
    check_close(backend->forward_masked(x, m, {}), mean);
  }
}

TEST_CASE("cuda: unfused relu and add, in place and copied, and flatten, clean and masked against the literal rule") {
  // x -> conv c (3x3) -> relu r (unfused: c is read again) -> add(r, c) in r's
  // storage; x -> maxpool q (3x3 s1) -> relu in q's storage; add of the two;
  // flatten; linear.
  ConvParams p;
  p.in_channels = 4, p.out_channels = 4, p.kernel = 3, p.padding = 1;
  Graph g;
  g.in_channels = 4;
  const int c = add_conv(g, 0, p, weights_for(p.weight_shape(), p.col_rows(), 1400), random_tensor({1, 4, 1, 1}, 1401));
  const int r = add_relu(g, c);
  const int a = g.add(Node(Op::add, {r, c}, "add1"));
  Node pool(Op::maxpool, {0}, "maxpool");
  pool.pool.kernel = 3, pool.pool.stride = 1, pool.pool.padding = 1;
  const int q = add_relu(g, g.add(pool));
  const int sum = g.add(Node(Op::add, {a, q}, "add2"));
  Node fc(Op::linear, {g.add(Node(Op::flatten, {sum}, "flatten"))}, "fc");
  fc.weight = weights_for({5, 4 * 7 * 6, 1, 1}, 4 * 7 * 6, 1402);
  g.features = sum;
  g.output = g.add(fc);
  auto backend = make_backend("cuda", g);
  const Tensor x = random_tensor({2, 4, 7, 6}, 1403);
  check_close(backend->forward(x), lmask::testing::literal_clean_forward(g, x));
  for (double density : {0.0, 0.5, 1.0})
    for (Fill fill : {Fill::neighbour_average, Fill::none, Fill::renorm})
      for (Execution e : {Execution::active, Execution::dense}) {
        INFO("density=" << density << " fill=" << fill_name(fill)
                        << " execution=" << (e == Execution::active ? "active" : "dense"));
        const Mask m = random_mask(2, 7, 6, density, 1404);
        const auto want = lmask::testing::literal_masked_forward(g, x, m.tensor(), fill);
        check_close(backend->forward_masked(x, m, {fill, e}), want.x);
      }
}

TEST_CASE("cuda: golden ResNet-50 clean and layer-masked logits match native and PyTorch within 1e-3") {
  const Hdf5File cases(golden_path("cases.h5"));
  const Tensor x = read_tensor(cases, "input");  // [3,3,224,224]
  const Tensor masks = read_tensor(cases, "mask");  // [3,6,224,224]
  const Tensor expected_layer = read_tensor(cases, "expected/layer");  // [3,6,1000], read as [1,3,6,1000]
  const Model model = Model::load(golden_path("resnet50_random.h5"), {"cuda"});
  const float clean = max_abs_diff(model.forward(x), read_tensor(cases, "expected/clean"));
  MESSAGE("cuda clean: max |diff| to PyTorch " << clean);
  CHECK(clean <= kTolerance);
  const Tensor x_ns = read_tensor(cases, "nonsquare/input");
  CHECK(max_abs_diff(model.forward(x_ns), read_tensor(cases, "nonsquare/expected_clean")) <= kTolerance);
  // The six mask kinds, all three images at once (a different mask per image).
  for (int kind = 0; kind < 6; ++kind) {
    Tensor m({3, 1, 224, 224}), want({3, 1000, 1, 1});
    for (int n = 0; n < 3; ++n) {
      std::copy(masks.image(n) + kind * 224 * 224, masks.image(n) + (kind + 1) * 224 * 224, m.image(n));
      const float* logits = expected_layer.data() + (std::size_t(n) * 6 + kind) * 1000;
      std::copy(logits, logits + 1000, want.image(n));
    }
    const Mask mask(m);
    for (Execution e : {Execution::active, Execution::dense}) {
      CAPTURE(kind);
      CAPTURE(e == Execution::active);
      const LayerMaskingOptions opt{Fill::neighbour_average, e};
      const Tensor got = model.forward_masked(x, mask, opt);
      const float to_torch = max_abs_diff(got, want);
      const float to_native = max_abs_diff(got, golden_model().forward_masked(x, mask, opt));
      MESSAGE("cuda layer-masked kind " << kind << (e == Execution::active ? " active" : " dense")
                                        << ": max |diff| to PyTorch " << to_torch << ", to native " << to_native);
      CHECK(to_torch <= kTolerance);
      CHECK(to_native <= kTolerance);
    }
  }
  const Mask m_ns(read_tensor(cases, "nonsquare/mask"));
  CHECK(max_abs_diff(model.forward_masked(x_ns, m_ns), read_tensor(cases, "nonsquare/expected_layer")) <=
        kTolerance);
}

TEST_CASE("cuda: shipped ResNet-50 at 224x224, clean and layer-masked, matches native within 1e-3") {
  // Needs only the repository (a GPU machine may lack ../shared/golden).
  const std::string weights = std::string(LMASK_SOURCE_DIR) + "/weights/resnet50_fmnist.h5";
  const Model native = Model::load(weights), model = Model::load(weights, {"cuda"});
  const Tensor x = random_tensor({4, 3, 224, 224}, 1200, -2.f, 2.f);
  check_close(model.forward(x), native.forward(x));
  check_close(model.features(x), native.features(x));
  for (double removed : {0.0, 0.5, 0.9, 1.0}) {
    std::vector<Mask> per_image;
    for (int i = 0; i < 4; ++i) per_image.push_back(random_patch_mask(224, 224, 16, removed, 1300 + i));
    const Mask m = stack_masks(per_image);
    for (Execution e : {Execution::active, Execution::dense})
      for (Fill fill : {Fill::neighbour_average, Fill::renorm}) {
        INFO("removed=" << removed << " execution=" << (e == Execution::active ? "active" : "dense")
                        << " fill=" << fill_name(fill));
        const LayerMaskingOptions opt{fill, e};
        check_close(model.forward_masked(x, m, opt), native.forward_masked(x, m, opt));
        check_close(model.features_masked(x, m, opt), native.features_masked(x, m, opt));
      }
  }
}
