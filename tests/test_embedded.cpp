// test_embedded.cpp — the embedded forward (embedded.h, arena_ops.h): each
// arena op against its reference op, the arena forward against the
// reference forwards and the golden cases, and the arena plan's promise
// (exactly enough, nothing written outside, a wrong plan refused untouched).
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "golden.h"
#include "lmask/arena_ops.h"
#include "lmask/embedded.h"
#include "lmask/masked_ops.h"
#include "lmask/resnet.h"
#include "reference_ops.h"

using namespace lmask;
using lmask::testing::golden_net;
using lmask::testing::golden_path;
using lmask::testing::random_mask;
using lmask::testing::random_tensor;
using lmask::testing::read_tensor;
using lmask::testing::relative_error;

namespace {

// An arena with guard bytes on both sides, to catch writes outside it.
struct GuardedArena {
  static constexpr std::size_t kGuard = 4096;
  static constexpr unsigned char kByte = 0xA5;
  std::vector<unsigned char> bytes;
  std::size_t size;
  explicit GuardedArena(std::size_t arena_bytes) : bytes(arena_bytes + 2 * kGuard + 64, kByte), size(arena_bytes) {}
  void* arena() {  // 64-byte aligned inside the vector
    const auto base = reinterpret_cast<std::uintptr_t>(bytes.data() + kGuard);
    return reinterpret_cast<void*>((base + 63) / 64 * 64);
  }
  bool guards_intact() {
    const unsigned char* a = static_cast<unsigned char*>(arena());
    for (const unsigned char* p = bytes.data(); p < a; ++p)
      if (*p != kByte) return false;
    for (const unsigned char* p = a + size; p < bytes.data() + bytes.size(); ++p)
      if (*p != kByte) return false;
    return true;
  }
};

Tensor arena_forward(const ResNet& net, const Tensor& x, const Mask* m, std::size_t budget = kDefaultColumnBudget) {
  const ArenaPlan plan = plan_arena(net, x.n(), x.h(), x.w(), m != nullptr, budget);
  GuardedArena arena(plan.arena_bytes);
  Tensor logits({x.n(), net.spec().num_classes, 1, 1});
  ArenaUse use;
  REQUIRE(forward_arena(logits.data(), x.data(), m ? m->tensor().data() : nullptr, net, plan, arena.arena(), &use));
  CHECK(arena.guards_intact());
  for (int s = 0; s < kSlotCount; ++s) {
    CAPTURE(arena_slot_name(s));
    if (m) CHECK(use.floats[s] == plan.floats[s]);  // the plan is exact
    else CHECK(use.floats[s] <= plan.floats[s]);
  }
  return logits;
}

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

TEST_CASE("embedded ops: mask pooling, fill, pooling and linear match their reference ops") {
  const Mask m = random_mask(3, 11, 9, 0.3, 5);
  SUBCASE("pool_mask is Mask::pooled") {
    for (const auto& k : std::vector<std::array<int, 4>>{{1, 1, 0, 1}, {1, 2, 0, 1}, {3, 1, 1, 1}, {3, 2, 1, 1},
                                                         {7, 2, 3, 1}, {3, 1, 2, 2}}) {
      const Mask want = m.pooled(k[0], k[1], k[2], k[3]);
      std::vector<float> got(want.tensor().numel(), 7.f);
      arena::pool_mask(got.data(), m.tensor().data(), 3, 11, 9, k[0], k[1], k[2], k[3]);
      CHECK(std::equal(got.begin(), got.end(), want.tensor().data()));
    }
  }
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
  SUBCASE("maxpool, avgpool, masked_avgpool and linear") {
    const Tensor x = random_tensor({3, 5, 11, 9}, 8);
    Tensor mp({3, 5, pool_out_size(11, 3, 2, 1), pool_out_size(9, 3, 2, 1)});
    maxpool2d(mp, x, 3, 2, 1);
    Tensor got_mp(mp.shape());
    arena::maxpool(got_mp.data(), x.data(), x.shape(), 3, 2, 1);
    CHECK(max_abs_diff(got_mp, mp) == 0.f);
    Tensor ap({3, 5, 1, 1}), got_ap({3, 5, 1, 1});
    adaptive_avgpool2d(ap, x);
    arena::avgpool(got_ap.data(), x.data(), x.shape());
    CHECK(max_abs_diff(got_ap, ap) == 0.f);
    Tensor xm = x.clone();
    m.apply(xm);
    masked_avgpool(ap, xm, m);
    arena::masked_avgpool(got_ap.data(), xm.data(), m.tensor().data(), x.shape());
    CHECK(max_abs_diff(got_ap, ap) == 0.f);
    const Tensor f = random_tensor({3, 6, 1, 1}, 9), w = random_tensor({4, 6, 1, 1}, 10), b = random_tensor({1, 4, 1, 1}, 11);
    Tensor y({3, 4, 1, 1}), got_y({3, 4, 1, 1});
    linear(y, f, w, b);
    arena::linear(got_y.data(), f.data(), w.data(), b.data(), 3, 6, 4);
    CHECK(relative_error(got_y, y) <= 1e-6);
  }
}

TEST_CASE("embedded forward: equals the reference forwards on a non-square batch with a mask per image") {
  const ResNet& net = golden_net();
  const Tensor x = random_tensor({3, 3, 56, 40}, 21, -2.f, 2.f);
  Tensor mt = random_mask(3, 56, 40, 0.6, 22).tensor().clone();
  std::fill(mt.image(1), mt.image(1) + 56 * 40, 1.f);   // image 1: all visible
  std::fill(mt.image(2), mt.image(2) + 56 * 40 / 2, 0.f);  // image 2: top half removed too
  const Mask m(mt);
  const Tensor clean = net.forward(x), masked = net.forward_masked(x, m);
  for (const std::size_t budget : {kDefaultColumnBudget, std::size_t(1000)}) {
    CAPTURE(budget);
    CHECK(relative_error(arena_forward(net, x, nullptr, budget), clean) <= 1e-4);
    CHECK(relative_error(arena_forward(net, x, &m, budget), masked) <= 1e-4);
  }
  // An all-removed mask gives the fc bias (the spec's consequence).
  const Mask gone = Mask::removed(3, 56, 40);
  const Tensor logits = arena_forward(net, x, &gone);
  for (int i = 0; i < 3; ++i)
    CHECK(std::equal(logits.image(i), logits.image(i) + net.spec().num_classes, net.fc_bias().data()));
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
  const float clean_diff = diff(arena_forward(golden_net(), x, nullptr), clean.data());
  MESSAGE("clean: max |diff| = " << clean_diff);
  CHECK(clean_diff <= 1e-3f);
  for (int kind = 0; kind < 6; ++kind) {
    Tensor mt({1, 1, 224, 224});
    std::copy(masks.image(0) + kind * 224 * 224, masks.image(0) + (kind + 1) * 224 * 224, mt.data());
    const Mask m(mt);
    const float d = diff(arena_forward(golden_net(), x, &m), layer.data() + kind * classes);
    MESSAGE("mask kind " << kind << ": max |diff| = " << d);
    CHECK(d <= 1e-3f);
  }
}

TEST_CASE("embedded plan: ResNet-50 at 224x224, batch 1, runs in at most 16 MB of arena") {
  const ArenaPlan plan = plan_arena(golden_net(), 1, 224, 224);
  MESSAGE("arena " << plan.arena_bytes << " bytes, weights " << plan.weight_bytes << " bytes");
  CHECK(plan.arena_bytes <= 16000000);
  CHECK(plan_arena(golden_net(), 1, 224, 224, false).arena_bytes <= plan.arena_bytes);
  CHECK(plan.weight_bytes > 25000000 * 4);  // ResNet-50: 25.5M parameters
  CHECK_THROWS_AS(plan_arena(golden_net(), 0, 224, 224), std::invalid_argument);
  const ResNet unfolded = ResNet::load(golden_path("resnet50_random.h5"), LoadOptions{false});
  CHECK_THROWS_AS(plan_arena(unfolded, 1, 64, 64), std::invalid_argument);
}

TEST_CASE("embedded forward: a plan that does not fit is refused before anything is written") {
  const ResNet& net = golden_net();
  const Tensor x = random_tensor({1, 3, 40, 40}, 31);
  const Mask m = random_mask(1, 40, 40, 0.5, 32);
  const ArenaPlan plan = plan_arena(net, 1, 40, 40);
  std::vector<float> logits(1000, 5.f);
  auto refused_untouched = [&](const ArenaPlan& p, const float* mask) {
    GuardedArena arena(plan.arena_bytes);
    std::memset(arena.arena(), 0xA5, plan.arena_bytes);
    const bool ran = forward_arena(logits.data(), x.data(), mask, net, p, arena.arena());
    const unsigned char* a = static_cast<unsigned char*>(arena.arena());
    return !ran && std::all_of(a, a + plan.arena_bytes, [](unsigned char b) { return b == 0xA5; }) &&
           std::all_of(logits.begin(), logits.end(), [](float v) { return v == 5.f; });
  };
  for (int s = 0; s < kSlotCount; ++s) {
    if (plan.floats[s] == 0) continue;
    CAPTURE(arena_slot_name(s));
    ArenaPlan small = plan;
    small.floats[s] -= 1;
    CHECK(refused_untouched(small, m.tensor().data()));
  }
  ArenaPlan taller = plan;
  taller.height = 48;  // the slots of a 40x40 plan for a 48x40 input
  CHECK(refused_untouched(taller, nullptr));
  ArenaPlan beyond = plan;
  beyond.arena_bytes -= 64;  // a slot would end past the arena
  CHECK(refused_untouched(beyond, m.tensor().data()));
  CHECK(refused_untouched(plan_arena(net, 1, 40, 40, false), m.tensor().data()));  // clean plan, mask given
}
