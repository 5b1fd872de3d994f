// test_ops_zoo.cpp — the ops the CNNs beyond ResNet need (SqueezeNet,
// DenseNet, MobileNetV3, EfficientNet): pooling with PyTorch's ceil_mode and
// count_include_pad, the activations, channel concatenation and the
// squeeze-excitation scale, against the naive oracles of reference_ops.h and
// against values worked out by hand from PyTorch's CPU kernels. Fixed seeds;
// every parameter of a case printed when it fails. (test_ops.cpp holds the
// ResNet ops.)
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "lmask/ops.h"
#include "lmask/tensor.h"
#include "reference_ops.h"

using namespace lmask;
using lmask::testing::activate_naive;
using lmask::testing::activation_naive;
using lmask::testing::avgpool2d_naive;
using lmask::testing::channel_scale_naive;
using lmask::testing::concat_channels_naive;
using lmask::testing::maxpool_naive;
using lmask::testing::pool_out_size_naive;
using lmask::testing::random_tensor;
using lmask::testing::relative_error;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

const Activation kActivations[] = {Activation::relu,        Activation::relu6, Activation::hardswish,
                                   Activation::hardsigmoid, Activation::silu,  Activation::sigmoid};

// One pooling window to try on an [n,c,h,w] input.
struct PoolCase {
  int n, c, h, w, k, s, p;
  bool ceil;
};

PoolParams params_of(const PoolCase& c, bool count_include_pad = true) {
  PoolParams p;
  p.kernel = c.k, p.stride = c.s, p.padding = c.p, p.ceil_mode = c.ceil;
  p.count_include_pad = count_include_pad;
  return p;
}

std::string describe(const PoolCase& c) {
  std::ostringstream os;
  os << "pool n=" << c.n << " c=" << c.c << " h=" << c.h << " w=" << c.w << " k=" << c.k
     << " s=" << c.s << " p=" << c.p << " ceil=" << c.ceil;
  return os.str();
}

// Odd sizes, strides 1-3, kernels 1/2/3/5, padding up to kernel/2, and ceil
// mode where it adds a window that hangs past the input.
const std::vector<PoolCase>& pool_cases() {
  static const std::vector<PoolCase> cases = {
      // n  c    h    w  k  s  p  ceil
      {1, 2, 226, 250, 3, 2, 0, true},   // both last windows hang one past the input
      {1, 2, 226, 250, 3, 2, 0, false},
      {2, 3, 54, 54, 3, 2, 0, true},     // SqueezeNet 1.0's second pool: 27 out, floor 26
      {1, 3, 9, 7, 3, 2, 1, true},       // a padded window that also hangs
      {2, 5, 9, 7, 3, 2, 1, false},
      {1, 2, 5, 5, 2, 2, 1, true},       // ceil's extra window starts in the right padding: dropped
      {1, 2, 6, 8, 3, 3, 1, true},       // stride 3, last window: 1 in the image, 1 padding, 1 past
      {1, 2, 5, 5, 1, 3, 0, true},       // kernel 1 stride 3: a window starting past the input, dropped
      {3, 4, 9, 7, 2, 2, 0, true},       // DenseNet's transition kernel on odd sizes
      {3, 4, 9, 7, 2, 2, 0, false},
      {1, 2, 10, 10, 2, 2, 1, false},    // kernel 2, padding 1
      {2, 3, 9, 7, 5, 2, 2, true},
      {1, 2, 11, 13, 5, 3, 2, true},
      {1, 2, 11, 13, 5, 3, 0, false},
      {1, 2, 9, 7, 3, 1, 1, true},       // stride 1: ceil changes nothing
      {1, 2, 2, 3, 3, 2, 0, true},       // kernel larger than the image: only ceil has an output
      {1, 3, 1, 1, 3, 2, 1, false},      // 1x1 images
      {1, 3, 1, 1, 3, 2, 1, true},
      {2, 3, 1, 1, 2, 2, 0, true},
      {2, 3, 1, 1, 3, 1, 1, false},
      {1, 1, 13, 1, 3, 2, 1, true},      // one column
      {1, 1, 1, 13, 2, 3, 0, true},      // one row
  };
  return cases;
}

// `got` equals `want`, or both are NaN.
bool same_or_both_nan(float got, float want) {
  return (std::isnan(got) && std::isnan(want)) || got == want;
}

}  // namespace

TEST_CASE("ops: PoolParams::out_size follows PyTorch's floor and ceil rules") {
  SUBCASE("sweep against counting windows one by one") {
    int checked = 0, refused = 0;
    for (int in = 1; in <= 30; ++in)
      for (int k = 1; k <= 7; ++k)
        for (int s = 1; s <= 4; ++s)
          for (int p = 0; p <= k / 2; ++p)
            for (bool ceil : {false, true}) {
              PoolParams pp;
              pp.kernel = k, pp.stride = s, pp.padding = p, pp.ceil_mode = ceil;
              INFO("in=" << in << " k=" << k << " s=" << s << " p=" << p << " ceil=" << ceil);
              const int want = pool_out_size_naive(in, pp);
              if (want < 1) {
                CHECK_THROWS_AS((void)pp.out_size(in), std::invalid_argument);
                ++refused;
                continue;
              }
              CHECK(pp.out_size(in) == want);
              if (!ceil) CHECK(pool_out_size(in, k, s, p) == want);  // the ResNet helper agrees
              ++checked;
            }
    CHECK(checked > 3000);
    CHECK(refused > 50);
  }
  SUBCASE("by hand") {
    struct Hand { int in, k, s, p; bool ceil; int out; const char* why; };
    const Hand hand[] = {
        {226, 3, 2, 0, false, 112, "floor"},
        {226, 3, 2, 0, true, 113, "ceil: last window [224,227) hangs one past"},
        {250, 3, 2, 0, true, 125, "ceil: last window [248,251)"},
        {54, 3, 2, 0, true, 27, "SqueezeNet 1.0"},
        {54, 3, 2, 0, false, 26, "SqueezeNet 1.0 in floor mode"},
        {112, 3, 2, 1, false, 56, "ResNet's stem pool"},
        {112, 3, 2, 1, true, 57, "ResNet's stem pool in ceil mode: [111,114) starts in the image"},
        {113, 3, 2, 1, true, 57, "ceil changes nothing when the stride divides in + 2p - k"},
        {5, 2, 2, 1, true, 3, "ceil's 4th window would start at 5 = in: dropped"},
        {5, 1, 3, 0, true, 2, "dropped without padding too (Pool.h checks in ceil mode, not only with padding)"},
        {2, 3, 2, 0, true, 1, "kernel past the image: ceil keeps one window"},
        {1, 3, 2, 1, false, 1, "1x1 image"},
    };
    for (const Hand& h : hand) {
      INFO(h.why << ": in=" << h.in << " k=" << h.k << " s=" << h.s << " p=" << h.p
                 << " ceil=" << h.ceil);
      PoolParams pp;
      pp.kernel = h.k, pp.stride = h.s, pp.padding = h.p, pp.ceil_mode = h.ceil;
      CHECK(pp.out_size(h.in) == h.out);
      CHECK(pool_out_size_naive(h.in, pp) == h.out);  // the oracle, too
    }
  }
  SUBCASE("invalid windows are refused, naming the window") {
    struct Bad { int in, k, s, p; bool ceil; const char* what; };
    const Bad bad[] = {
        {9, 0, 1, 0, false, "kernel 0"},
        {9, 3, 0, 1, false, "stride 0"},
        {9, -1, 1, 0, false, "negative kernel"},
        {9, 3, 2, 2, false, "padding 2 > kernel 3 / 2 (PyTorch refuses it)"},
        {9, 2, 2, 2, true, "padding 2 > kernel 2 / 2"},
        {9, 1, 1, 1, false, "padding on a 1x1 kernel"},
        {9, 3, 1, -1, false, "negative padding"},
        {2, 3, 2, 0, false, "kernel past the image, floor mode"},
        {1, 3, 3, 0, false, "no output (C++'s rounding toward zero would give 1)"},
        {0, 3, 2, 1, false, "empty input"},
    };
    for (const Bad& b : bad) {
      INFO(b.what);
      PoolParams pp;
      pp.kernel = b.k, pp.stride = b.s, pp.padding = b.p, pp.ceil_mode = b.ceil;
      try {
        (void)pp.out_size(b.in);
        FAIL_CHECK("accepted");
      } catch (const std::invalid_argument& e) {
        const std::string msg = e.what();
        CAPTURE(msg);
        CHECK(msg.find("kernel " + std::to_string(b.k)) != std::string::npos);
        CHECK(msg.find("padding " + std::to_string(b.p)) != std::string::npos);
      }
    }
  }
}

TEST_CASE("ops: maxpool2d with PoolParams matches the oracle, ceil mode included") {
  const std::vector<PoolCase>& cases = pool_cases();
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const PoolCase& c = cases[i];
    INFO(describe(c));
    const PoolParams p = params_of(c);
    // Random signs, then all negative: a padding or hanging position that
    // wrongly counted as 0 would win every border max.
    for (bool negative : {false, true}) {
      CAPTURE(negative);
      const auto seed = static_cast<std::uint32_t>(1300 + i);
      const Tensor x = negative ? random_tensor({c.n, c.c, c.h, c.w}, seed, -5.f, -1.f)
                                : random_tensor({c.n, c.c, c.h, c.w}, seed);
      const Tensor want = maxpool_naive(x, p);
      Tensor y = Tensor::filled(want.shape(), kNaN);
      maxpool2d(y, x, p);
      CHECK(relative_error(y, want) == 0.0);  // a max is exact
      if (negative) CHECK(max_abs(y) >= 1.f);
      if (!c.ceil) {  // the (kernel, stride, padding) overload is the same op
        Tensor old = Tensor::filled(want.shape(), kNaN);
        maxpool2d(old, x, c.k, c.s, c.p);
        CHECK(relative_error(old, want) == 0.0);
      }
    }
  }
  // The output shape is checked, and ceil mode's is not floor mode's.
  const Tensor x = random_tensor({1, 2, 226, 250}, 7);
  PoolParams ceil;
  ceil.kernel = 3, ceil.stride = 2, ceil.ceil_mode = true;
  Tensor floor_shaped({1, 2, 112, 124});
  CHECK_THROWS_AS(maxpool2d(floor_shaped, x, ceil), std::invalid_argument);
  PoolParams bad = ceil;
  bad.padding = 2;
  Tensor y({1, 2, 114, 126});
  CHECK_THROWS_AS(maxpool2d(y, x, bad), std::invalid_argument);
}

TEST_CASE("ops: avgpool2d matches the oracle with and without count_include_pad") {
  const std::vector<PoolCase>& cases = pool_cases();
  for (std::size_t i = 0; i < cases.size(); ++i)
    for (bool include_pad : {true, false}) {
      const PoolCase& c = cases[i];
      INFO(describe(c) << " count_include_pad=" << include_pad);
      const PoolParams p = params_of(c, include_pad);
      const Tensor x = random_tensor({c.n, c.c, c.h, c.w}, static_cast<std::uint32_t>(1400 + i));
      const Tensor want = avgpool2d_naive(x, p);
      Tensor y = Tensor::filled(want.shape(), kNaN);
      avgpool2d(y, x, p);
      CHECK(relative_error(y, want) <= 1e-6);
    }
  // A constant image: with count_include_pad=false every output is the
  // constant; with it, exactly the windows reaching into padding are smaller.
  const Tensor ones = Tensor::filled({1, 1, 9, 7}, 1.f);
  for (bool include_pad : {true, false}) {
    CAPTURE(include_pad);
    PoolParams p;
    p.kernel = 3, p.stride = 2, p.padding = 1, p.ceil_mode = true, p.count_include_pad = include_pad;
    Tensor y({1, 1, p.out_size(9), p.out_size(7)});
    avgpool2d(y, ones, p);
    int below_one = 0;
    for (std::size_t i = 0; i < y.numel(); ++i) below_one += y.data()[i] < 1.f;
    CHECK(below_one == (include_pad ? int(y.numel()) - 3 * 2 : 0));  // interior: 3 rows x 2 columns
  }
  // Without padding there is nothing to include: the windows hanging past
  // the input in ceil mode still average a constant to the constant.
  const Tensor twos = Tensor::filled({1, 1, 226, 250}, 2.f);
  for (bool include_pad : {true, false}) {
    CAPTURE(include_pad);
    PoolParams p;
    p.kernel = 3, p.stride = 2, p.ceil_mode = true, p.count_include_pad = include_pad;
    Tensor y({1, 1, 113, 125});
    avgpool2d(y, twos, p);
    CHECK(relative_error(y, Tensor::filled(y.shape(), 2.f)) == 0.0);
  }
  Tensor wrong({1, 1, 4, 4});
  PoolParams p;
  p.kernel = 3, p.stride = 2, p.padding = 1;
  CHECK_THROWS_AS(avgpool2d(wrong, ones, p), std::invalid_argument);  // [1,1,5,4] expected
}

TEST_CASE("ops: avgpool2d and maxpool2d by hand, as PyTorch's CPU kernels define them") {
  // Worked out from aten/src/ATen/native/cpu/AvgPoolKernel.cpp (cpu_avg_pool)
  // and Pool.h (pooling_output_shape); torch was not available to run them.
  SUBCASE("4x4 ramp, kernel 3, stride 2, padding 1, ceil: a third window [3,6) per axis") {
    // x[i][j] = 4i + j + 1. Row windows: [-1,2) -> image rows {0,1}, 3 in the
    // padded input; [1,4) -> {1,2,3}, 3; [3,5) (clipped at in + p = 5) -> {3},
    // 2. Columns the same.
    Tensor x({1, 1, 4, 4});
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) x.at(0, 0, i, j) = float(4 * i + j + 1);
    PoolParams p;
    p.kernel = 3, p.stride = 2, p.padding = 1, p.ceil_mode = true;
    REQUIRE(p.out_size(4) == 3);
    const double include_pad[3][3] = {{14 / 9., 30 / 9., 12 / 6.},
                                      {57 / 9., 99 / 9., 36 / 6.},
                                      {27 / 6., 45 / 6., 16 / 4.}};
    const double exclude_pad[3][3] = {{3.5, 5, 6}, {9.5, 11, 12}, {13.5, 15, 16}};
    const float max[3][3] = {{6, 8, 8}, {14, 16, 16}, {14, 16, 16}};
    Tensor with({1, 1, 3, 3}), without({1, 1, 3, 3}), maxed({1, 1, 3, 3});
    avgpool2d(with, x, p);
    p.count_include_pad = false;
    avgpool2d(without, x, p);
    maxpool2d(maxed, x, p);
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) {
        CAPTURE(i);
        CAPTURE(j);
        CHECK(with.at(0, 0, i, j) == doctest::Approx(include_pad[i][j]).epsilon(1e-6));
        CHECK(without.at(0, 0, i, j) == doctest::Approx(exclude_pad[i][j]).epsilon(1e-6));
        CHECK(maxed.at(0, 0, i, j) == max[i][j]);
      }
  }
  SUBCASE("a window past the input counts in neither divisor") {
    // [1, 2, 6], kernel 2, stride 2, ceil: the second window [2,4) holds
    // only the 6; count_include_pad counts padding, and there is none.
    Tensor x({1, 1, 1, 3});
    x.at(0, 0, 0, 0) = 1.f, x.at(0, 0, 0, 1) = 2.f, x.at(0, 0, 0, 2) = 6.f;
    for (bool include_pad : {true, false}) {
      CAPTURE(include_pad);
      PoolParams p;
      p.kernel = 2, p.stride = 2, p.ceil_mode = true, p.count_include_pad = include_pad;
      Tensor y({1, 1, 1, 2});
      avgpool2d(y, x, p);
      CHECK(y.at(0, 0, 0, 0) == 1.5f);
      CHECK(y.at(0, 0, 0, 1) == 6.f);
    }
  }
  SUBCASE("1x1 image, kernel 3, stride 1, padding 1: 9 positions, 1 of them the image") {
    const Tensor x = Tensor::filled({1, 1, 1, 1}, 4.5f);
    PoolParams p;
    p.kernel = 3, p.padding = 1;
    Tensor y({1, 1, 1, 1});
    avgpool2d(y, x, p);
    CHECK(y.at(0, 0, 0, 0) == doctest::Approx(0.5).epsilon(1e-7));
    p.count_include_pad = false;
    avgpool2d(y, x, p);
    CHECK(y.at(0, 0, 0, 0) == 4.5f);
  }
}

TEST_CASE("ops: activations match PyTorch's formulas on [-8, 8], at the kinks and off the end") {
  // Every 1/16 from -8 to 8 (-3, 0, 3 and 6 exactly among them), then random
  // values and a few far out: 257 + 3*5*33*31 elements, not a multiple of
  // any vector width, enough for two threads to split.
  std::vector<float> values;
  for (int i = -128; i <= 128; ++i) values.push_back(i / 16.f);
  const Tensor r = random_tensor({3, 5, 33, 31}, 2100, -8.f, 8.f);
  values.insert(values.end(), r.data(), r.data() + r.numel());
  for (float v : {-100.f, -20.f, -1e-30f, 1e-30f, 20.f, 100.f}) values.push_back(v);
  Tensor x({1, 1, 1, static_cast<int>(values.size())});
  std::copy(values.begin(), values.end(), x.data());

  for (Activation a : kActivations) {
    INFO(activation_name(a));
    Tensor y = x.clone();
    activate(y, a);
    const Tensor want = activate_naive(x, a);
    int wrong = 0;
    for (std::size_t i = 0; i < x.numel() && wrong < 5; ++i) {
      const double got = y.data()[i], expected = want.data()[i];
      if (std::fabs(got - expected) <= 1e-6 * std::fabs(expected) + 1e-12) continue;
      ++wrong;
      FAIL_CHECK(activation_name(a) << "(" << x.data()[i] << ") = " << got << ", expected "
                                    << expected);
    }
  }

  SUBCASE("exact values at the kinks") {
    struct Exact { Activation a; float v, want; };
    const Exact exact[] = {
        {Activation::relu, 0.f, 0.f},         {Activation::relu, -3.f, 0.f},
        {Activation::relu, 3.f, 3.f},         {Activation::relu6, 6.f, 6.f},
        {Activation::relu6, 8.f, 6.f},        {Activation::relu6, -3.f, 0.f},
        {Activation::relu6, 3.f, 3.f},        {Activation::hardswish, -3.f, 0.f},
        {Activation::hardswish, -8.f, 0.f},   {Activation::hardswish, 0.f, 0.f},
        {Activation::hardswish, 3.f, 3.f},    {Activation::hardswish, 6.f, 6.f},
        {Activation::hardswish, -1.5f, -0.375f},
        {Activation::hardsigmoid, -3.f, 0.f}, {Activation::hardsigmoid, 0.f, 0.5f},
        {Activation::hardsigmoid, 3.f, 1.f},  {Activation::hardsigmoid, 6.f, 1.f},
        {Activation::hardsigmoid, -1.5f, 0.25f},
        {Activation::silu, 0.f, 0.f},         {Activation::sigmoid, 0.f, 0.5f},
    };
    for (const Exact& e : exact) {
      INFO(activation_name(e.a) << "(" << e.v << ")");
      Tensor t = Tensor::filled({1, 1, 1, 1}, e.v);
      activate(t, e.a);
      CHECK(t.data()[0] == e.want);
    }
  }
  SUBCASE("non-finite inputs as in PyTorch's float32 kernels") {
    // sigmoid = 1 / (1 + exp(-x)), silu = x / (1 + exp(-x)), hardswish =
    // x * min(max(x + 3, 0), 6) / 6: hence silu(-inf) = -inf / inf and
    // hardswish(-inf) = -inf * 0 are NaN there too. NaN stays NaN.
    struct Edge { Activation a; float minus_inf, plus_inf; };
    const Edge edges[] = {
        {Activation::relu, 0.f, kInf},        {Activation::relu6, 0.f, 6.f},
        {Activation::hardswish, kNaN, kInf},  {Activation::hardsigmoid, 0.f, 1.f},
        {Activation::silu, kNaN, kInf},       {Activation::sigmoid, 0.f, 1.f},
    };
    for (const Edge& e : edges) {
      INFO(activation_name(e.a));
      Tensor t({1, 1, 1, 3});
      t.data()[0] = -kInf, t.data()[1] = kInf, t.data()[2] = kNaN;
      activate(t, e.a);
      CHECK(same_or_both_nan(t.data()[0], e.minus_inf));
      CHECK(same_or_both_nan(t.data()[1], e.plus_inf));
      CHECK(std::isnan(t.data()[2]));
      // The oracle agrees, so the sweep above judges the same way.
      CHECK(same_or_both_nan(float(activation_naive(-kInf, e.a)), e.minus_inf));
      CHECK(same_or_both_nan(float(activation_naive(kInf, e.a)), e.plus_inf));
    }
  }
  SUBCASE("names") {
    const char* names[] = {"relu", "relu6", "hardswish", "hardsigmoid", "silu", "sigmoid"};
    for (int i = 0; i < 6; ++i) CHECK(std::string(activation_name(kActivations[i])) == names[i]);
  }
}

TEST_CASE("ops: concat_channels matches the oracle and names a mismatch") {
  struct ConcatCase { int n, h, w; std::vector<int> channels; };
  const std::vector<ConcatCase> cases = {
      {2, 5, 7, {3, 1, 5}},         // DenseNet-style: unequal parts
      {1, 9, 7, {13}},              // one input: a copy
      {3, 1, 1, {64, 64}},          // 1x1 images, SqueezeNet's expand halves
      {2, 13, 11, {2, 7, 1, 4, 3}},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const ConcatCase& c = cases[i];
    std::vector<Tensor> xs;
    int total = 0;
    for (std::size_t j = 0; j < c.channels.size(); ++j) {
      xs.push_back(random_tensor({c.n, c.channels[j], c.h, c.w},
                                 static_cast<std::uint32_t>(2200 + 10 * i + j)));
      total += c.channels[j];
    }
    INFO("concat n=" << c.n << " h=" << c.h << " w=" << c.w << " parts=" << xs.size()
                     << " C=" << total);
    Tensor y = Tensor::filled({c.n, total, c.h, c.w}, kNaN);
    concat_channels(y, xs);
    CHECK(relative_error(y, concat_channels_naive(xs)) == 0.0);
  }
  // Inputs that are batch views (one image of a larger batch) are read at
  // their own offsets.
  const Tensor big = random_tensor({3, 4, 5, 6}, 2300);
  const Tensor other = random_tensor({1, 2, 5, 6}, 2301);
  Tensor y({1, 6, 5, 6});
  concat_channels(y, {big.batch(2, 1), other});
  CHECK(relative_error(y, concat_channels_naive({big.batch(2, 1).clone(), other})) == 0.0);

  struct Bad { const char* what; std::vector<Shape> inputs; Shape out; const char* says; };
  const std::vector<Bad> bad = {
      {"batch", {{2, 3, 5, 7}, {1, 4, 5, 7}}, {2, 7, 5, 7}, "input 1 [1,4,5,7]"},
      {"height", {{2, 3, 5, 7}, {2, 4, 6, 7}}, {2, 7, 5, 7}, "in H"},
      {"width", {{2, 3, 5, 7}, {2, 4, 5, 8}}, {2, 7, 5, 7}, "in W"},
      {"height and width", {{2, 3, 4, 8}}, {2, 3, 5, 7}, "in H and W"},
      {"channel sum", {{2, 3, 5, 7}, {2, 4, 5, 7}}, {2, 8, 5, 7}, "3+4 = 7"},
      {"no inputs", {}, {2, 8, 5, 7}, "no inputs"},
  };
  for (const Bad& b : bad) {
    INFO(b.what);
    std::vector<Tensor> xs;
    for (const Shape& s : b.inputs) xs.emplace_back(s);
    Tensor out(b.out);
    try {
      concat_channels(out, xs);
      FAIL_CHECK("accepted");
    } catch (const std::invalid_argument& e) {
      const std::string msg = e.what();
      CAPTURE(msg);
      CHECK(msg.find(b.says) != std::string::npos);
    }
  }
}

TEST_CASE("ops: channel_scale matches the oracle, a scale per image and channel") {
  const Shape shapes[] = {{2, 13, 9, 7}, {1, 5, 1, 1}, {3, 64, 2, 3}, {1, 1, 13, 11}};
  std::uint32_t seed = 2400;
  for (const Shape& s : shapes) {
    INFO("channel_scale x=" << s.str());
    const Tensor x = random_tensor(s, seed++);
    const Tensor scale = random_tensor({s.n, s.c, 1, 1}, seed++, 0.f, 1.f);  // a sigmoid's range
    Tensor y = x.clone();
    channel_scale(y, scale);
    CHECK(relative_error(y, channel_scale_naive(x, scale)) == 0.0);  // one float product each
  }
  Tensor x({2, 13, 9, 7});
  for (const Shape& wrong : {Shape{1, 13, 1, 1}, Shape{2, 12, 1, 1}, Shape{2, 13, 9, 7},
                             Shape{2, 13, 1, 2}}) {
    INFO("scale " << wrong.str());
    try {
      channel_scale(x, Tensor(wrong));
      FAIL_CHECK("accepted");
    } catch (const std::invalid_argument& e) {
      const std::string msg = e.what();
      CAPTURE(msg);
      CHECK(msg.find("channel_scale") != std::string::npos);
      CHECK(msg.find("[2,13,1,1]") != std::string::npos);
    }
  }
}
