// test_ops.cpp — the layer operations against the naive oracles of
// reference_ops.h, over tables of awkward cases (odd sizes, prime channel
// counts, every padding/stride/dilation/groups path), ncnn style: fixed
// seeds, and every parameter of a case printed when it fails.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "lmask/ops.h"
#include "lmask/tensor.h"
#include "reference_ops.h"

using namespace lmask;
using lmask::testing::avgpool_naive;
using lmask::testing::batchnorm_naive;
using lmask::testing::conv2d_naive;
using lmask::testing::linear_naive;
using lmask::testing::maxpool_naive;
using lmask::testing::random_tensor;
using lmask::testing::relative_error;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// One convolution to try. `n` is the batch; in/out are channel counts.
struct ConvCase {
  int n, in, out, h, w, k, s, p, d, g;
  bool bias, relu;
};

std::string describe(const ConvCase& c) {
  std::ostringstream os;
  os << "conv n=" << c.n << " in=" << c.in << " out=" << c.out << " h=" << c.h << " w=" << c.w
     << " k=" << c.k << " s=" << c.s << " p=" << c.p << " d=" << c.d << " g=" << c.g
     << " bias=" << c.bias << " relu=" << c.relu;
  return os.str();
}

ConvParams params_of(const ConvCase& c) {
  ConvParams p;
  p.in_channels = c.in, p.out_channels = c.out, p.kernel = c.k, p.stride = c.s;
  p.padding = c.p, p.dilation = c.d, p.groups = c.g;
  return p;
}

// Runs conv2d on random data and compares it with the oracle. The output is
// pre-filled with NaN so that an element the op forgets to write fails.
void check_conv(const ConvCase& c, Workspace& ws, std::uint32_t seed) {
  INFO(describe(c));
  CAPTURE(seed);
  const ConvParams p = params_of(c);
  const Tensor x = random_tensor({c.n, c.in, c.h, c.w}, seed);
  const Tensor weight = random_tensor(p.weight_shape(), seed + 1);
  const Tensor bias = c.bias ? random_tensor({1, c.out, 1, 1}, seed + 2) : Tensor();
  Tensor y = Tensor::filled(p.out_shape(x.shape()), kNaN);
  conv2d(y, x, weight, bias, p, ws, c.relu);
  const Tensor want = conv2d_naive(x, weight, bias, p, c.relu);
  REQUIRE(y.shape() == want.shape());
  const double err = relative_error(y, want);
  CAPTURE(err);
  CHECK(err <= 1e-4);
}

// Effective extent of a dilated kernel.
int kernel_extent(int k, int d) { return d * (k - 1) + 1; }

}  // namespace

TEST_CASE("ops: conv2d matches the naive oracle on a table of awkward cases") {
  const std::vector<ConvCase> cases = {
      // n  in out  h   w  k  s  p  d  g  bias   relu
      {1, 13, 5, 9, 7, 3, 1, 1, 1, 1, true, false},   // odd sizes, prime channels
      {3, 13, 5, 9, 7, 3, 2, 1, 1, 1, false, true},   // batch, stride 2, relu
      {1, 3, 16, 13, 11, 7, 2, 3, 1, 1, true, true},  // the ResNet stem shape
      {2, 13, 13, 9, 7, 3, 1, 1, 1, 13, true, false}, // depthwise
      {1, 13, 13, 9, 7, 3, 2, 1, 1, 13, false, true}, // depthwise, stride 2
      {1, 13, 26, 9, 7, 3, 1, 1, 1, 13, true, false}, // depthwise x2 multiplier
      {1, 8, 12, 9, 7, 3, 1, 1, 2, 4, true, false},   // groups with dilation
      {1, 4, 4, 3, 3, 5, 1, 2, 1, 1, true, false},    // kernel larger than the image
      {1, 4, 4, 3, 3, 7, 1, 3, 1, 1, false, false},   // every window mostly padding
      {3, 6, 6, 9, 7, 1, 2, 0, 1, 1, true, false},    // 1x1 stride 2 (downsample)
      {1, 6, 6, 9, 7, 1, 3, 0, 1, 2, true, false},    // 1x1 stride 3, groups
      {1, 6, 6, 5, 4, 1, 1, 1, 1, 1, true, false},    // 1x1 with padding: border = bias
      {1, 5, 7, 1, 1, 1, 1, 0, 1, 1, true, true},     // 1x1 image
      {1, 5, 7, 1, 9, 3, 1, 1, 1, 1, true, false},    // one-row image
      {1, 5, 7, 9, 1, 3, 2, 1, 1, 1, false, false},   // one-column image
      {1, 1, 1, 9, 7, 3, 1, 0, 1, 1, false, false},   // single channel in and out
      {2, 7, 3, 11, 10, 3, 3, 2, 2, 1, true, true},   // stride 3 + dilation 2 + padding 2
      {1, 12, 8, 10, 9, 5, 2, 2, 1, 4, true, true},   // 5x5, groups 4
      {1, 4, 6, 15, 14, 7, 3, 0, 2, 2, true, false},  // 7x7 dilated: 13x13 extent
      {3, 64, 64, 7, 7, 3, 1, 1, 1, 32, true, true},  // ResNeXt-style cardinality
  };
  Workspace ws;  // shared on purpose: a dirty, differently sized workspace must not matter
  for (std::size_t i = 0; i < cases.size(); ++i) {
    CAPTURE(i);
    check_conv(cases[i], ws, static_cast<std::uint32_t>(100 + 10 * i));
  }
}

TEST_CASE("ops: conv2d sweep over kernel, stride, padding, dilation and groups") {
  // Channel layouts per groups choice; the last is depthwise.
  struct Layout { int in, out, g; };
  const Layout layouts[] = {{13, 5, 1}, {6, 10, 2}, {8, 12, 4}, {5, 5, 5}};
  std::mt19937 pick(2024);  // chooses batch/bias/relu per case, reproducibly
  Workspace ws;
  int index = 0;
  for (int k : {1, 3, 5, 7})
    for (int s : {1, 2, 3})
      for (int p : {0, 1, 2, 3})
        for (int d : {1, 2})
          for (const Layout& l : layouts) {
            // Start from 9x7 and grow only where the window would not fit.
            const int extent = kernel_extent(k, d);
            const int h = std::max(9, extent - 2 * p + 2);
            const int w = std::max(7, extent - 2 * p);
            const ConvCase c{pick() % 2 ? 3 : 1, l.in, l.out, h, w, k, s, p, d, l.g,
                             pick() % 2 == 0, pick() % 2 == 0};
            check_conv(c, ws, static_cast<std::uint32_t>(5000 + 7 * index++));
          }
  MESSAGE("conv2d sweep: " << index << " cases");
}

TEST_CASE("ops: pointwise conv2d (1x1, stride 1, no padding) with groups") {
  Workspace ws;
  int index = 0;
  for (int g : {1, 2, 4})
    for (int n : {1, 3})
      for (auto hw : {std::pair{9, 7}, std::pair{1, 1}, std::pair{13, 1}}) {
        const ConvCase c{n, 8, 12, hw.first, hw.second, 1, 1, 0, 1, g, index % 2 == 0,
                         index % 3 == 0};
        REQUIRE(params_of(c).is_pointwise());  // the path that skips im2col
        check_conv(c, ws, static_cast<std::uint32_t>(9000 + index++));
      }
}

TEST_CASE("ops: conv2d reads and writes batch views without touching neighbours") {
  // Input and output are single-image views into larger batches: the op must
  // use the views' own offsets, and leave the other images alone.
  for (const ConvCase& c : {ConvCase{1, 8, 12, 9, 7, 1, 1, 0, 1, 2, true, false},     // pointwise
                            ConvCase{1, 8, 12, 9, 7, 3, 2, 1, 1, 2, true, true}}) {  // im2col
    INFO(describe(c));
    const ConvParams p = params_of(c);
    const Tensor big_x = random_tensor({3, c.in, c.h, c.w}, 31);
    const Tensor x = big_x.batch(2, 1);
    const Tensor weight = random_tensor(p.weight_shape(), 32);
    const Tensor bias = random_tensor({1, c.out, 1, 1}, 33);
    Shape big_y_shape = p.out_shape(big_x.shape());
    Tensor big_y = Tensor::filled(big_y_shape, 7.f);
    Tensor y = big_y.batch(1, 1);
    Workspace ws;
    conv2d(y, x, weight, bias, p, ws, c.relu);
    CHECK(relative_error(y, conv2d_naive(x, weight, bias, p, c.relu)) <= 1e-4);
    for (int img : {0, 2}) {
      CAPTURE(img);
      CHECK(relative_error(big_y.batch(img, 1), Tensor::filled(y.shape(), 7.f)) == 0.0);
    }
  }
}

TEST_CASE("ops: maxpool2d matches the naive oracle and padding never wins") {
  struct PoolCase { int n, c, h, w, k, s, p; };
  const std::vector<PoolCase> cases = {
      {1, 3, 9, 7, 3, 2, 1},    // ResNet's stem pool on odd sizes
      {2, 5, 8, 8, 3, 2, 1},
      {1, 2, 2, 2, 3, 2, 1},    // every window clipped by padding
      {1, 1, 1, 1, 3, 2, 1},    // 1x1 input: the one pixel is every output
      {3, 4, 9, 7, 2, 2, 0},    // odd sizes: last row/column dropped
      {1, 2, 7, 5, 2, 2, 0},
      {1, 3, 9, 7, 3, 1, 1},    // overlapping windows, same size out
      {1, 2, 10, 10, 3, 3, 0},  // stride equals kernel
      {1, 2, 9, 7, 1, 1, 0},    // identity
      {1, 2, 5, 6, 2, 1, 1},    // padding = kernel/2
      {2, 3, 9, 7, 5, 2, 2},
      {1, 1, 13, 1, 3, 2, 1},   // one column
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const PoolCase& c = cases[i];
    INFO("maxpool n=" << c.n << " c=" << c.c << " h=" << c.h << " w=" << c.w << " k=" << c.k
                      << " s=" << c.s << " p=" << c.p);
    // Random signs, then all negative: with zero padding winning, the second
    // would produce 0 on the border.
    for (bool negative : {false, true}) {
      CAPTURE(negative);
      const auto seed = static_cast<std::uint32_t>(300 + i);
      const Tensor x = negative ? random_tensor({c.n, c.c, c.h, c.w}, seed, -5.f, -1.f)
                                : random_tensor({c.n, c.c, c.h, c.w}, seed);
      Tensor y = Tensor::filled({c.n, c.c, pool_out_size(c.h, c.k, c.s, c.p),
                                 pool_out_size(c.w, c.k, c.s, c.p)}, kNaN);
      maxpool2d(y, x, c.k, c.s, c.p);
      const Tensor want = maxpool_naive(x, c.k, c.s, c.p);
      REQUIRE(y.shape() == want.shape());
      CHECK(relative_error(y, want) == 0.0);  // a max is exact
      if (negative) CHECK(max_abs(y) >= 1.f);  // every output is some input, so <= -1
    }
  }
}

TEST_CASE("ops: adaptive_avgpool2d uses PyTorch's bins") {
  SUBCASE("7x5 -> 3x2 by hand: overlapping bins rows {0-2,2-4,4-6}, cols {0-2,2-4}") {
    Tensor x({1, 1, 7, 5});
    for (int iy = 0; iy < 7; ++iy)
      for (int ix = 0; ix < 5; ++ix) x.at(0, 0, iy, ix) = float(10 * iy + ix);
    Tensor y({1, 1, 3, 2});
    adaptive_avgpool2d(y, x);
    // Mean of 10*row + col over a bin = 10*mean(rows) + mean(cols).
    const float want[3][2] = {{11.f, 13.f}, {31.f, 33.f}, {51.f, 53.f}};
    for (int oy = 0; oy < 3; ++oy)
      for (int ox = 0; ox < 2; ++ox) {
        CAPTURE(oy);
        CAPTURE(ox);
        CHECK(y.at(0, 0, oy, ox) == doctest::Approx(want[oy][ox]).epsilon(1e-6));
      }
  }
  SUBCASE("table against the oracle") {
    struct AvgCase { int n, c, h, w, oh, ow; };
    const std::vector<AvgCase> cases = {
        {2, 13, 7, 7, 1, 1},   // ResNet's global pool
        {1, 3, 9, 7, 1, 1},
        {3, 4, 7, 5, 3, 2},    // non-divisible: overlapping bins
        {1, 2, 10, 10, 3, 3},
        {1, 2, 6, 4, 6, 4},    // identity
        {1, 2, 3, 2, 5, 4},    // more outputs than inputs
        {1, 1, 1, 1, 2, 3},
        {1, 5, 13, 11, 4, 7},
    };
    for (std::size_t i = 0; i < cases.size(); ++i) {
      const AvgCase& c = cases[i];
      INFO("avgpool n=" << c.n << " c=" << c.c << " h=" << c.h << " w=" << c.w << " -> oh="
                        << c.oh << " ow=" << c.ow);
      const Tensor x = random_tensor({c.n, c.c, c.h, c.w}, static_cast<std::uint32_t>(400 + i));
      Tensor y = Tensor::filled({c.n, c.c, c.oh, c.ow}, kNaN);
      adaptive_avgpool2d(y, x);
      CHECK(relative_error(y, avgpool_naive(x, c.oh, c.ow)) <= 1e-6);
    }
  }
}

TEST_CASE("ops: linear matches the naive oracle") {
  struct LinearCase { int n, c, h, w, out; };
  const std::vector<LinearCase> cases = {
      {1, 1, 1, 1, 1},
      {3, 13, 1, 1, 7},
      {2, 2048, 1, 1, 10},  // ResNet-50 head with few classes
      {3, 100, 1, 1, 1000},
      {2, 4, 3, 3, 5},      // [N,C,H,W] input read as C*H*W features
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const LinearCase& c = cases[i];
    INFO("linear n=" << c.n << " in=[" << c.c << "," << c.h << "," << c.w << "] out=" << c.out);
    const auto seed = static_cast<std::uint32_t>(500 + 3 * i);
    const int in = c.c * c.h * c.w;
    const Tensor x = random_tensor({c.n, c.c, c.h, c.w}, seed);
    const Tensor weight = random_tensor({c.out, in, 1, 1}, seed + 1);
    const Tensor bias = random_tensor({1, c.out, 1, 1}, seed + 2);
    Tensor y = Tensor::filled({c.n, c.out, 1, 1}, kNaN);
    linear(y, x, weight, bias);
    CHECK(relative_error(y, linear_naive(x, weight, bias)) <= 1e-4);
  }
}

TEST_CASE("ops: batchnorm matches the naive oracle") {
  const Shape shapes[] = {{1, 13, 9, 7}, {3, 5, 1, 1}, {2, 1, 4, 4}, {1, 64, 3, 2}};
  std::uint32_t seed = 600;
  for (const Shape& s : shapes)
    for (float eps : {1e-5f, 1e-3f}) {
      INFO("batchnorm shape=" << s.str() << " eps=" << eps);
      CAPTURE(seed);
      BatchNormParams bn;
      bn.gamma = random_tensor({1, s.c, 1, 1}, seed + 1);
      bn.beta = random_tensor({1, s.c, 1, 1}, seed + 2);
      bn.mean = random_tensor({1, s.c, 1, 1}, seed + 3);
      bn.var = random_tensor({1, s.c, 1, 1}, seed + 4, 0.01f, 2.f);
      bn.eps = eps;
      const Tensor x = random_tensor(s, seed);
      Tensor y = x.clone();
      batchnorm(y, bn);
      CHECK(relative_error(y, batchnorm_naive(x, bn)) <= 1e-5);
      seed += 10;
    }
}

TEST_CASE("ops: relu clamps negatives to zero and keeps the rest") {
  // 13 elements: not a multiple of any vector width.
  const float in[13] = {-3.f, -0.f, 0.f, 1e-30f, -1e-30f, 2.5f, -2.5f, 7.f,
                        -std::numeric_limits<float>::infinity(),
                        std::numeric_limits<float>::infinity(), 1.f, -1.f, 0.25f};
  Tensor x({1, 13, 1, 1});
  std::copy(in, in + 13, x.data());
  relu(x);
  for (int i = 0; i < 13; ++i) {
    CAPTURE(i);
    CAPTURE(in[i]);
    CHECK(x.data()[i] == (in[i] > 0.f ? in[i] : 0.f));
  }
  const Tensor r = random_tensor({3, 5, 9, 7}, 700);
  Tensor y = r.clone();
  relu(y);
  for (std::size_t i = 0; i < r.numel(); ++i)
    if (y.data()[i] != std::max(r.data()[i], 0.f)) {
      CAPTURE(i);
      FAIL_CHECK("relu wrong at element " << i << ": " << r.data()[i] << " -> " << y.data()[i]);
      break;
    }
}

TEST_CASE("ops: add, with and without the fused relu") {
  for (bool fused : {false, true}) {
    CAPTURE(fused);
    const Shape s{3, 5, 9, 7};
    const Tensor a = random_tensor(s, 800), b = random_tensor(s, 801);
    Tensor y = a.clone();
    add(y, b, fused);
    for (std::size_t i = 0; i < a.numel(); ++i) {
      float want = a.data()[i] + b.data()[i];
      if (fused) want = std::max(want, 0.f);
      if (y.data()[i] != want) {
        CAPTURE(i);
        FAIL_CHECK("add wrong at element " << i << ": " << a.data()[i] << " + " << b.data()[i]
                                          << " -> " << y.data()[i] << ", expected " << want);
        break;
      }
    }
    CHECK(max_abs_diff(b, random_tensor(s, 801)) == 0.f);  // the operand is untouched
  }
}

TEST_CASE("ops: fold_batchnorm: conv then batchnorm equals the folded conv") {
  const std::vector<ConvCase> cases = {
      {1, 13, 5, 9, 7, 3, 1, 1, 1, 1, false, false},
      {2, 8, 12, 9, 7, 1, 1, 0, 1, 4, true, false},   // pointwise, groups, old bias
      {1, 6, 6, 9, 7, 3, 2, 1, 1, 6, true, true},     // depthwise, relu after
      {1, 3, 16, 13, 11, 7, 2, 3, 1, 1, false, true}, // stem
  };
  for (std::size_t i = 0; i < cases.size(); ++i)
    for (float eps : {1e-5f, 1e-3f}) {
      const ConvCase& c = cases[i];
      INFO(describe(c) << " eps=" << eps);
      const auto seed = static_cast<std::uint32_t>(900 + 10 * i);
      const ConvParams p = params_of(c);
      const Tensor x = random_tensor({c.n, c.in, c.h, c.w}, seed);
      const Tensor weight = random_tensor(p.weight_shape(), seed + 1);
      const Tensor bias = c.bias ? random_tensor({1, c.out, 1, 1}, seed + 2) : Tensor();
      BatchNormParams bn;
      bn.gamma = random_tensor({1, c.out, 1, 1}, seed + 3);
      bn.beta = random_tensor({1, c.out, 1, 1}, seed + 4);
      bn.mean = random_tensor({1, c.out, 1, 1}, seed + 5);
      bn.var = random_tensor({1, c.out, 1, 1}, seed + 6, 0.05f, 2.f);
      bn.eps = eps;

      // Reference order: conv, batchnorm, relu.
      Workspace ws;
      Tensor unfolded(p.out_shape(x.shape()));
      conv2d(unfolded, x, weight, bias, p, ws, false);
      batchnorm(unfolded, bn);
      if (c.relu) relu(unfolded);

      Tensor folded_weight = weight.clone(), folded_bias = bias.empty() ? Tensor() : bias.clone();
      fold_batchnorm(folded_weight, folded_bias, bn);
      REQUIRE(folded_bias.shape() == Shape{1, c.out, 1, 1});
      Tensor folded(p.out_shape(x.shape()));
      conv2d(folded, x, folded_weight, folded_bias, p, ws, c.relu);

      CHECK(relative_error(folded, unfolded) <= 1e-5);
      // And both against the oracles, so a shared mistake cannot hide.
      Tensor want = batchnorm_naive(conv2d_naive(x, weight, bias, p), bn);
      if (c.relu) relu(want);
      CHECK(relative_error(folded, want) <= 1e-5);
    }
}

TEST_CASE("ops: shape checks throw std::invalid_argument") {
  ConvParams p;
  p.in_channels = 4, p.out_channels = 6, p.kernel = 3, p.stride = 2, p.padding = 1;
  const Tensor x = random_tensor({1, 4, 9, 7}, 1);
  const Tensor weight = random_tensor(p.weight_shape(), 2);  // [6,4,3,3]
  const Tensor bias = random_tensor({1, 6, 1, 1}, 3);
  const Shape good = p.out_shape(x.shape());                  // [1,6,5,4]
  Workspace ws;
  BatchNormParams bn;
  bn.gamma = bn.beta = bn.mean = bn.var = Tensor::filled({1, 5, 1, 1}, 1.f);  // 5 != 6 channels

  struct Bad { const char* what; std::function<void()> call; };
  const std::vector<Bad> bad = {
      {"conv2d output one row short", [&] { Tensor y({1, 6, 4, 4}); conv2d(y, x, weight, bias, p, ws); }},
      {"conv2d output wrong channels", [&] { Tensor y({1, 5, 5, 4}); conv2d(y, x, weight, bias, p, ws); }},
      {"conv2d output wrong batch", [&] { Tensor y({2, 6, 5, 4}); conv2d(y, x, weight, bias, p, ws); }},
      {"conv2d weight wrong kernel", [&] {
         Tensor y(good);
         conv2d(y, x, Tensor({6, 4, 1, 1}), bias, p, ws);
       }},
      {"conv2d bias wrong size", [&] { Tensor y(good); conv2d(y, x, weight, Tensor({1, 5, 1, 1}), p, ws); }},
      {"conv2d input channels", [&] {
         Tensor y(good);
         conv2d(y, Tensor({1, 3, 9, 7}), weight, bias, p, ws);
       }},
      {"maxpool2d output", [&] { Tensor y({1, 4, 4, 4}); maxpool2d(y, x, 3, 2, 1); }},
      {"adaptive_avgpool2d channels", [&] { Tensor y({1, 3, 1, 1}); adaptive_avgpool2d(y, x); }},
      {"adaptive_avgpool2d batch", [&] { Tensor y({2, 4, 1, 1}); adaptive_avgpool2d(y, x); }},
      {"linear output", [&] {
         Tensor y({1, 7, 1, 1});
         linear(y, Tensor({1, 8, 1, 1}), Tensor({6, 8, 1, 1}), Tensor({1, 6, 1, 1}));
       }},
      {"linear weight inputs", [&] {
         Tensor y({1, 6, 1, 1});
         linear(y, Tensor({1, 8, 1, 1}), Tensor({6, 9, 1, 1}), Tensor({1, 6, 1, 1}));
       }},
      {"linear bias", [&] {
         Tensor y({1, 6, 1, 1});
         linear(y, Tensor({1, 8, 1, 1}), Tensor({6, 8, 1, 1}), Tensor({1, 5, 1, 1}));
       }},
      {"batchnorm gamma", [&] { Tensor y({1, 6, 2, 2}); batchnorm(y, bn); }},
      {"fold_batchnorm gamma", [&] { Tensor w = weight.clone(), b; fold_batchnorm(w, b, bn); }},
      {"add operand", [&] { Tensor y({1, 4, 9, 7}); add(y, Tensor({1, 4, 7, 9})); }},
      {"reshaped count", [&] { (void)x.reshaped({1, 4, 9, 8}); }},
      {"copy_from shape", [&] { Tensor y({1, 4, 7, 9}); y.copy_from(x); }},
  };
  for (const Bad& b : bad) {
    INFO(b.what);
    CHECK_THROWS_AS(b.call(), std::invalid_argument);
  }
  // The message names both shapes, so a user can see which one is off.
  try {
    check_shape(x, {1, 4, 7, 9}, "my operand");
    FAIL("check_shape accepted a wrong shape");
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    CAPTURE(msg);
    CHECK(msg.find("my operand") != std::string::npos);
    CHECK(msg.find("[1,4,7,9]") != std::string::npos);
    CHECK(msg.find("[1,4,9,7]") != std::string::npos);
  }
  CHECK_NOTHROW(check_shape(x, {1, 4, 9, 7}, "x"));
  CHECK_THROWS_AS((void)x.batch(0, 2), std::out_of_range);
}

TEST_CASE("ops: Tensor views share storage and clone() does not") {
  Tensor t = random_tensor({3, 2, 4, 5}, 42);

  Tensor view = t.batch(1, 1);
  CHECK(view.shape() == Shape{1, 2, 4, 5});
  CHECK(view.data() == t.image(1));
  view.at(0, 1, 2, 3) = 123.f;
  CHECK(t.at(1, 1, 2, 3) == 123.f);  // written through the view

  Tensor flat = t.reshaped({1, 1, 1, 120});
  CHECK(flat.data() == t.data());
  flat.data()[119] = -9.f;
  CHECK(t.at(2, 1, 3, 4) == -9.f);

  Tensor copy = t;  // copying the object shares, too
  CHECK(copy.data() == t.data());

  Tensor deep = t.clone();
  CHECK(deep.data() != t.data());
  CHECK(deep.shape() == t.shape());
  CHECK(max_abs_diff(deep, t) == 0.f);
  deep.at(0, 0, 0, 0) = 555.f;
  CHECK(t.at(0, 0, 0, 0) != 555.f);

  // A clone of a view holds only the view's elements.
  Tensor view_copy = t.batch(2, 1).clone();
  CHECK(view_copy.shape() == Shape{1, 2, 4, 5});
  CHECK(view_copy.at(0, 1, 3, 4) == -9.f);

  // A view keeps its storage alive after the tensor it came from is gone.
  Tensor survivor = t.batch(2, 1);
  const float kept = survivor.at(0, 0, 1, 1);
  t = Tensor();
  flat = Tensor();
  copy = Tensor();
  view = Tensor();
  CHECK(survivor.at(0, 0, 1, 1) == kept);
}

TEST_CASE("ops: Tensor storage is 64-byte aligned and zero-initialised") {
  auto aligned = [](const Tensor& t) { return reinterpret_cast<std::uintptr_t>(t.data()) % 64 == 0; };
  const Shape shapes[] = {{1, 1, 1, 1}, {1, 1, 1, 3}, {3, 13, 9, 7}, {1, 17, 1, 1}, {2, 64, 56, 56}};
  for (const Shape& s : shapes) {
    INFO("shape " << s.str());
    Tensor t(s);
    CHECK(aligned(t));
    CHECK(max_abs(t) == 0.f);
    CHECK(aligned(Tensor::filled(s, 1.f)));
    CHECK(aligned(random_tensor(s, 1).clone()));
    CHECK(aligned(t.batch(s.n - 1, 1).clone()));
  }
}
