// test_embedded.cpp — the embedded forward (embedded.h, arena_ops.h): its
// own ops against the reference ops, the arena forward of the golden ResNet
// against the reference forwards and the golden cases (the op table runs it
// on every other graph: test_op_table.cpp), and the arena plan's promise
// (exactly enough, nothing written outside, a plan for another graph or
// input refused with the arena untouched).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "arena_forward.h"
#include "golden.h"
#include "lmask/arena_ops.h"
#include "lmask/embedded.h"
#include "lmask/graph_passes.h"
#include "lmask/lmw.h"
#include "lmask/masked_ops.h"
#include "lmask/model.h"
#include "lmask/resnet.h"
#include "reference_ops.h"

using namespace lmask;
using lmask::testing::arena_forward;
using lmask::testing::golden_model;
using lmask::testing::golden_net;
using lmask::testing::golden_path;
using lmask::testing::GuardedArena;
using lmask::testing::random_mask;
using lmask::testing::random_tensor;
using lmask::testing::read_tensor;
using lmask::testing::relative_error;

namespace {

// The golden ResNet-50 as it runs: the Model's graph, BatchNorm folded and
// epilogues fused.
const Graph& golden_graph() { return golden_model().graph(); }

}  // namespace

TEST_CASE("embedded ops: conv matches conv2d on awkward shapes, in column chunks, with the fused residual") {
  struct Case { int in, out, k, stride, pad, dil, groups, h, w; std::size_t budget; };
  const Case cases[] = {
      {3, 8, 7, 2, 3, 1, 1, 17, 13, 1 << 18},  // the stem, odd sizes
      {3, 8, 7, 2, 3, 1, 1, 17, 13, 200},      // the same in chunks of 1 column... and more
      {6, 5, 3, 1, 1, 1, 1, 9, 7, 100},        // 3x3, chunks of 1-2 columns
      {6, 4, 3, 3, 1, 1, 2, 11, 10, 60},       // stride 3, 2 groups
      {5, 7, 3, 1, 2, 2, 1, 8, 9, 1 << 18},    // dilation 2
      {8, 6, 1, 1, 0, 1, 1, 5, 7, 1 << 18},    // pointwise: read in place
      {8, 6, 1, 2, 0, 1, 2, 9, 6, 7},          // strided 1x1 (a downsample), 2 groups
  };
  std::uint32_t seed = 10;
  for (const Case& c : cases)
    for (int mode = 0; mode < 3; ++mode) {  // plain, relu, accumulate + relu
      ConvParams p;
      p.in_channels = c.in, p.out_channels = c.out, p.kernel = c.k, p.stride = c.stride;
      p.padding = c.pad, p.dilation = c.dil, p.groups = c.groups;
      CAPTURE(c.k);
      CAPTURE(c.stride);
      CAPTURE(c.groups);
      CAPTURE(c.budget);
      CAPTURE(mode);
      const Tensor x = random_tensor({2, c.in, c.h, c.w}, seed++);
      const Tensor w = random_tensor(p.weight_shape(), seed++);
      const Tensor b = random_tensor({1, c.out, 1, 1}, seed++);
      const Tensor prior = random_tensor(p.out_shape(x.shape()), seed++);
      Tensor want(p.out_shape(x.shape()));
      Workspace ws;
      conv2d(want, x, w, b, p, ws, mode == 1);
      if (mode == 2) add(want, prior, /*relu=*/true);
      Tensor got = mode == 2 ? prior.clone() : Tensor::filled(want.shape(), 123.f);
      const int chunk = arena::chunk_columns(p, want.h() * want.w(), c.budget);
      std::vector<float> cols(std::size_t(chunk) * p.col_rows() + 1);
      arena::conv(got.data(), x.data(), x.shape(), p, w.data(), b.data(), mode == 2, mode != 0, cols.data(), c.budget);
      CHECK(relative_error(got, want) <= 1e-5);
    }
}

TEST_CASE("embedded ops: im2col_columns in chunks rebuilds im2col's matrix") {
  ConvParams p;
  p.in_channels = 4, p.out_channels = 2, p.kernel = 3, p.stride = 2, p.padding = 1, p.groups = 2;
  const Tensor x = random_tensor({1, 4, 9, 8}, 3);
  const int n = p.out_size(9) * p.out_size(8), rows = p.col_rows();
  std::vector<float> want(std::size_t(rows) * n), got(want.size()), chunk(want.size());
  im2col(want.data(), x.data(), 9, 8, 2, p);
  for (int first = 0; first < n; first += 3) {
    const int count = std::min(3, n - first);
    arena::im2col_columns(chunk.data(), x.data(), 9, 8, 2, p, first, count);
    for (int r = 0; r < rows; ++r)
      for (int j = 0; j < count; ++j) got[std::size_t(r) * n + first + j] = chunk[std::size_t(r) * count + j];
  }
  CHECK(got == want);
}

TEST_CASE("embedded ops: fill, the partial convolution's scale and linear match their reference ops") {
  const Mask m = random_mask(3, 11, 9, 0.3, 5);
  SUBCASE("fill is fill_reference, bit for bit, and skips all-visible images") {
    Tensor mt = m.tensor().clone();
    std::fill(mt.image(1), mt.image(1) + 11 * 9, 1.f);  // image 1 all visible
    const Mask mixed(mt);
    for (int steps = 1; steps <= 3; ++steps) {
      Tensor want = random_tensor({3, 4, 11, 9}, 40 + steps);
      mixed.apply(want);
      Tensor got = want.clone();
      fill_reference(want, mixed, steps);
      std::vector<float> scratch(arena::fill_scratch_floats(11, 9));
      arena::fill(got.data(), mixed.tensor().data(), got.shape(), steps, scratch.data());
      CHECK(std::equal(got.data(), got.data() + got.numel(), want.data()));
    }
  }
  SUBCASE("renorm_scale and scale_bias_relu are conv2d_at with renorm_inv_scale, bit for bit") {
    ConvParams p;
    p.in_channels = 4, p.out_channels = 5, p.kernel = 3, p.stride = 2, p.padding = 2, p.dilation = 2;
    Tensor x = random_tensor({3, 4, 11, 9}, 12);
    m.apply(x);
    const Tensor w = random_tensor(p.weight_shape(), 13), b = random_tensor({1, 5, 1, 1}, 14);
    const Shape ys = p.out_shape(x.shape());
    std::vector<int> every(std::size_t(ys.n) * ys.h * ys.w);
    for (std::size_t i = 0; i < every.size(); ++i) every[i] = static_cast<int>(i);
    for (const bool relu : {false, true}) {
      CAPTURE(relu);
      Tensor want(ys);
      Workspace ws;
      const std::vector<float> inv = renorm_inv_scale(m, p, every);
      conv2d_at(want, x, w, b, p, every, ws, relu, inv.data());
      Tensor got(ys);
      std::vector<float> scale(every.size());
      std::vector<float> cols(std::size_t(arena::chunk_columns(p, ys.h * ys.w, kDefaultColumnBudget)) * p.col_rows());
      arena::conv(got.data(), x.data(), x.shape(), p, w.data(), nullptr, false, false, cols.data(),
                  kDefaultColumnBudget);
      arena::renorm_scale(scale.data(), m.tensor().data(), x.shape(), p, ys.h, ys.w);
      CHECK(std::equal(scale.begin(), scale.end(), inv.begin()));
      arena::scale_bias_relu(got.data(), scale.data(), b.data(), ys, relu);
      CHECK(relative_error(got, want) <= 1e-6);
    }
  }
  SUBCASE("linear, with and without bias") {
    const Tensor f = random_tensor({3, 6, 1, 1}, 9), w = random_tensor({4, 6, 1, 1}, 10);
    const Tensor b = random_tensor({1, 4, 1, 1}, 11);
    for (const bool with_bias : {true, false}) {
      Tensor y({3, 4, 1, 1}), got_y = Tensor::filled({3, 4, 1, 1}, 7.f);
      linear(y, f, w, with_bias ? b : Tensor());
      arena::linear(got_y.data(), f.data(), w.data(), with_bias ? b.data() : nullptr, 3, 6, 4);
      CHECK(relative_error(got_y, y) <= 1e-6);
    }
  }
}

TEST_CASE("embedded forward: equals the reference forwards on a non-square batch with a mask per image") {
  const Model& model = golden_model();
  const Tensor x = random_tensor({3, 3, 56, 40}, 21, -2.f, 2.f);
  Tensor mt = random_mask(3, 56, 40, 0.6, 22).tensor().clone();
  std::fill(mt.image(1), mt.image(1) + 56 * 40, 1.f);   // image 1: all visible
  std::fill(mt.image(2), mt.image(2) + 56 * 40 / 2, 0.f);  // image 2: top half removed too
  const Mask m(mt);
  const Tensor clean = model.forward(x), masked = model.forward_masked(x, m);
  for (const std::size_t budget : {kDefaultColumnBudget, std::size_t(1000)}) {
    CAPTURE(budget);
    CHECK(relative_error(arena_forward(golden_graph(), x, nullptr, Fill::neighbour_average, budget), clean) <= 1e-4);
    CHECK(relative_error(arena_forward(golden_graph(), x, &m, Fill::neighbour_average, budget), masked) <= 1e-4);
  }
  // An all-removed mask gives the fc bias (the spec's consequence).
  const Mask gone = Mask::removed(3, 56, 40);
  const Tensor logits = arena_forward(golden_graph(), x, &gone);
  const Tensor& fc_bias = model.head().nodes[model.head().output].bias;
  for (int i = 0; i < 3; ++i)
    CHECK(std::equal(logits.image(i), logits.image(i) + model.num_classes(), fc_bias.data()));
}

TEST_CASE("embedded forward: a ResNet loaded with its BatchNorms apart runs them as nodes of their own") {
  const ResNet unfolded = ResNet::load(golden_path("resnet50_random.h5"), LoadOptions{false});
  const Graph g = fuse_epilogues(unfolded.graph());
  const Tensor x = random_tensor({2, 3, 40, 48}, 23, -2.f, 2.f);
  const Mask m = random_mask(2, 40, 48, 0.5, 24);
  CHECK(relative_error(arena_forward(g, x, nullptr), golden_model().forward(x)) <= 1e-4);
  CHECK(relative_error(arena_forward(g, x, &m), golden_model().forward_masked(x, m)) <= 1e-4);
}

TEST_CASE("embedded forward: golden clean and layer-masked cases (image 0, every mask kind)") {
  const Hdf5File cases(golden_path("cases.h5"));
  const Tensor x = read_tensor(cases, "input").batch(0, 1).clone();
  const Tensor masks = read_tensor(cases, "mask");  // [3,6,224,224]
  const std::vector<float> clean = cases.read_floats("expected/clean");
  const std::vector<float> layer = cases.read_floats("expected/layer");
  const int classes = 1000;
  auto diff = [&](const Tensor& got, const float* want) {
    float d = 0.f;
    for (int c = 0; c < classes; ++c) d = std::max(d, std::fabs(got.data()[c] - want[c]));
    return d;
  };
  const float clean_diff = diff(arena_forward(golden_graph(), x, nullptr), clean.data());
  MESSAGE("clean: max |diff| = " << clean_diff);
  CHECK(clean_diff <= 1e-3f);
  for (int kind = 0; kind < 6; ++kind) {
    Tensor mt({1, 1, 224, 224});
    std::copy(masks.image(0) + kind * 224 * 224, masks.image(0) + (kind + 1) * 224 * 224, mt.data());
    const Mask m(mt);
    const float d = diff(arena_forward(golden_graph(), x, &m), layer.data() + kind * classes);
    MESSAGE("mask kind " << kind << ": max |diff| = " << d);
    CHECK(d <= 1e-3f);
  }
}

TEST_CASE("embedded forward: the zoo's SqueezeNet 1.1 and MobileNetV3-Large in every .lmw dtype equal the native forward") {
  // The weights as the embedded build reads them (f16 and int8 dequantized
  // by the .lmw reader): the arena must give what the native forwards give
  // on the same values, which for int8 is not the golden logits.
  const Hdf5File cases(golden_path("cases.h5"));
  const Tensor x = read_tensor(cases, "input").batch(0, 1).clone();
  Tensor mt({1, 1, 224, 224});
  const Tensor masks = read_tensor(cases, "mask");
  std::copy(masks.image(0), masks.image(0) + 224 * 224, mt.data());  // patch30
  const Mask m(mt);
  for (const char* arch : {"squeezenet1_1", "mobilenet_v3_large"})
    for (LmwDType dtype : {LmwDType::f32, LmwDType::f16, LmwDType::int8}) {
      const std::string bytes = write_lmw(load_weights(golden_path(std::string("zoo/") + arch + "_random.h5")), dtype);
      const Model model = Model::from_weights(
          read_lmw_weights(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), arch));
      const Graph g = fuse_epilogues(model.graph());
      const std::string what = std::string(arch) + " " + lmw_dtype_name(dtype);  // (a const char* prints as a pointer)
      INFO(what);
      const double clean = relative_error(arena_forward(g, x, nullptr), model.forward(x));
      const double masked = relative_error(arena_forward(g, x, &m), model.forward_masked(x, m));
      MESSAGE(what << ": relative error clean " << clean << ", patch30 " << masked);
      CHECK(clean <= 1e-4);
      CHECK(masked <= 1e-4);
    }
}

TEST_CASE("embedded plan: ResNet-50 at 224x224, batch 1, runs in at most 16 MB of arena") {
  const ArenaPlan plan = plan_arena(golden_graph(), 1, 224, 224);
  const ArenaPlan clean = plan_arena(golden_graph(), 1, 224, 224, false);
  MESSAGE("arena " << plan.arena_bytes << " bytes (clean only " << clean.arena_bytes << "), weights "
                   << plan.weight_bytes << " bytes, " << plan.buffers.size() << " buffers");
  CHECK(plan.arena_bytes <= 16000000);
  CHECK(clean.arena_bytes <= plan.arena_bytes);
  CHECK(plan.weight_bytes > 25000000 * 4);  // ResNet-50: 25.5M parameters
  CHECK_THROWS_AS(plan_arena(golden_graph(), 0, 224, 224), std::invalid_argument);
  CHECK_THROWS_AS(plan_arena(golden_graph(), 1, 224, 224, true, 0), std::invalid_argument);
  Graph pool;  // a 3x3 window without padding on a 2x2 input
  Node p(Op::maxpool, {0}, "pool");
  p.pool.kernel = 3;
  pool.output = pool.add(p);
  CHECK_THROWS_AS(plan_arena(pool, 1, 2, 2), std::invalid_argument);
  CHECK_NOTHROW(plan_arena(pool, 1, 3, 3));
  pool.output = 2;  // no such node
  CHECK_THROWS_AS(plan_arena(pool, 1, 3, 3), std::invalid_argument);
  // No two buffers live at the same time share a byte.
  for (const ArenaBuffer& a : plan.buffers)
    for (const ArenaBuffer& b : plan.buffers) {
      if (&a == &b || a.last < b.first || b.last < a.first) continue;
      const bool apart =
          a.offset + a.floats * sizeof(float) <= b.offset || b.offset + b.floats * sizeof(float) <= a.offset;
      INFO(arena_buffer_kind(a.kind) << " of node " << a.node << ", " << arena_buffer_kind(b.kind) << " of node "
                                     << b.node);
      CHECK(apart);
    }
}

TEST_CASE("embedded forward: a plan that does not fit the graph or input is refused before anything is written") {
  const Graph& g = golden_graph();
  const Tensor x = random_tensor({1, 3, 40, 40}, 31);
  const Mask m = random_mask(1, 40, 40, 0.5, 32);
  const ArenaPlan plan = plan_arena(g, 1, 40, 40);
  std::vector<float> logits(1000, 5.f);
  auto refused_untouched = [&](const Graph& graph, const ArenaPlan& p, const float* mask, ArenaUse* use = nullptr) {
    GuardedArena arena(plan.arena_bytes);
    std::memset(arena.arena(), 0xA5, plan.arena_bytes);
    const bool ran = forward_arena(logits.data(), x.data(), mask, graph, p, arena.arena(), use);
    const unsigned char* a = static_cast<unsigned char*>(arena.arena());
    return !ran && std::all_of(a, a + plan.arena_bytes, [](unsigned char b) { return b == 0xA5; }) &&
           std::all_of(logits.begin(), logits.end(), [](float v) { return v == 5.f; });
  };
  SUBCASE("a buffer one float short") {
    for (std::size_t b = 0; b < plan.buffers.size(); ++b) {
      CAPTURE(arena_buffer_kind(plan.buffers[b].kind));
      CAPTURE(node_label(g, plan.buffers[b].node));
      ArenaPlan small = plan;
      small.buffers[b].floats -= 1;
      CHECK(refused_untouched(g, small, m.tensor().data()));
    }
  }
  SUBCASE("another input, the arena's end, a clean plan given a mask, use sized for another plan") {
    ArenaPlan taller = plan;
    taller.height = 48;  // the buffers of a 40x40 plan for a 48x40 input
    CHECK(refused_untouched(g, taller, nullptr));
    ArenaPlan batch = plan;
    batch.batch = 2;  // its shapes are still for one image
    CHECK(refused_untouched(g, batch, nullptr));
    ArenaPlan beyond = plan;
    beyond.arena_bytes -= 64;  // a buffer would end past the arena
    CHECK(refused_untouched(g, beyond, m.tensor().data()));
    CHECK(refused_untouched(g, plan_arena(g, 1, 40, 40, false), m.tensor().data()));
    ArenaUse other;
    CHECK(refused_untouched(g, plan, m.tensor().data(), &other));
  }
  SUBCASE("a plan for another graph") {
    CHECK(refused_untouched(golden_net().graph(), plan, m.tensor().data()));  // unfused: other nodes
    // The same nodes and shapes, read differently: the last block's
    // residual taken from the block before it.
    Graph rewired = g;
    Node& last = rewired.nodes[rewired.features - 1];
    REQUIRE(last.has_residual());
    const int before = rewired.nodes[last.inputs[1]].inputs[1];
    REQUIRE(infer_shapes(rewired, x.shape())[before] == infer_shapes(rewired, x.shape())[last.inputs[1]]);
    last.inputs[1] = before;
    CHECK(refused_untouched(rewired, plan, m.tensor().data()));
    Graph strided = g;  // a conv's stride changed: its shape no longer the plan's
    strided.nodes[1].conv.stride = 1;
    CHECK(refused_untouched(strided, plan, nullptr));
  }
  // The plan itself runs, masked, and clean too (its mask buffers unused).
  Tensor out({1, 1000, 1, 1});
  GuardedArena arena(plan.arena_bytes);
  REQUIRE(forward_arena(out.data(), x.data(), m.tensor().data(), g, plan, arena.arena()));
  CHECK(relative_error(out, golden_model().forward_masked(x, m)) <= 1e-4);
  REQUIRE(forward_arena(out.data(), x.data(), nullptr, g, plan, arena.arena()));
  CHECK(relative_error(out, golden_model().forward(x)) <= 1e-4);
}
