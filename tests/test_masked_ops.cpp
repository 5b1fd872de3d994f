// test_masked_ops.cpp — the operations layer masking adds (masked_ops.h):
// the neighbour-average fill in both implementations, the active-region
// convolution conv2d_at, partial convolution's rescaling and the masked
// average pool, each against the spec's formulas (shared/spec/LAYER_MASKING.md)
// written out here or against the naive oracles of reference_ops.h.
// ncnn style: tables of awkward cases, fixed seeds, parameters on failure.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "conv_cases.h"
#include "lmask/mask.h"
#include "lmask/masked_ops.h"
#include "lmask/ops.h"
#include "reference_ops.h"

using namespace lmask;
using lmask::testing::conv2d_naive;
using lmask::testing::ConvCase;
using lmask::testing::describe;
using lmask::testing::params_of;
using lmask::testing::random_mask;
using lmask::testing::random_tensor;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// Chebyshev distance of every position to the nearest visible one of its
// image (a large number when the image has none), by brute force.
std::vector<int> distance_to_visible(const Mask& m) {
  const int h = m.h(), w = m.w();
  std::vector<int> dist(std::size_t(m.n()) * h * w, 1 << 20);
  for (int n = 0; n < m.n(); ++n)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        for (int vy = 0; vy < h; ++vy)
          for (int vx = 0; vx < w; ++vx)
            if (m.tensor().at(n, 0, vy, vx) == 1.f) {
              int& d = dist[(std::size_t(n) * h + y) * w + x];
              d = std::min(d, std::max(std::abs(vy - y), std::abs(vx - x)));
            }
  return dist;
}

// Random positions of the [n, oh, ow] output planes, each kept with
// probability `fraction`, ascending as conv2d_at requires.
std::vector<int> random_positions(int count, double fraction, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::bernoulli_distribution keep(fraction);
  std::vector<int> pos;
  for (int i = 0; i < count; ++i)
    if (keep(rng)) pos.push_back(i);
  return pos;
}

// Runs conv2d_at on random data at random positions and checks it, output by
// output, against `want_sum` (the conv without bias, from the naive oracle):
// listed positions hold want_sum * inv_scale + bias (then relu) within 1e-5
// relative, every other output is exactly 0. y starts as NaN so that an
// output the op forgets to write fails.
void check_conv_at(const ConvCase& c, const std::vector<int>& positions, bool use_bias, bool use_relu,
                   bool use_scale, Workspace& ws, std::uint32_t seed) {
  INFO(describe(c) << " positions=" << positions.size() << " bias=" << use_bias << " relu=" << use_relu
                   << " inv_scale=" << use_scale << " seed=" << seed);
  const ConvParams p = params_of(c);
  const Tensor x = random_tensor({c.n, c.in, c.h, c.w}, seed);
  const Tensor weight = random_tensor(p.weight_shape(), seed + 1);
  const Tensor bias = use_bias ? random_tensor({1, c.out, 1, 1}, seed + 2) : Tensor();
  std::vector<float> scale;
  if (use_scale) {
    std::mt19937 rng(seed + 3);
    std::uniform_real_distribution<float> dist(1.f, 9.f);
    for (std::size_t j = 0; j < positions.size(); ++j) scale.push_back(dist(rng));
  }
  Tensor y = Tensor::filled(p.out_shape(x.shape()), kNaN);
  conv2d_at(y, x, weight, bias, p, positions, ws, use_relu, use_scale ? scale.data() : nullptr);

  const Tensor sum = conv2d_naive(x, weight, Tensor(), p);
  REQUIRE(y.shape() == sum.shape());
  // Where no scale is given, the plain BLAS conv2d is the oracle too.
  Tensor dense;
  if (!use_scale) {
    dense = Tensor(sum.shape());
    conv2d(dense, x, weight, bias, p, ws, use_relu);
  }
  const int plane = y.h() * y.w();
  std::vector<int> listed(std::size_t(c.n) * plane, -1);  // position -> index in the list
  for (std::size_t j = 0; j < positions.size(); ++j) listed[positions[j]] = int(j);
  // The expected outputs first (0 where not listed), then the tolerance:
  // 1e-5 of their largest magnitude (never below 1).
  Tensor want_y(sum.shape());
  double magnitude = 1.0;
  for (int n = 0; n < c.n; ++n)
    for (int o = 0; o < c.out; ++o)
      for (int pix = 0; pix < plane; ++pix) {
        const int j = listed[std::size_t(n) * plane + pix];
        if (j < 0) continue;
        double want = double(sum.at(n, o, pix / y.w(), pix % y.w())) * (use_scale ? scale[j] : 1.f) +
                      (use_bias ? bias.data()[o] : 0.f);
        if (use_relu) want = std::max(want, 0.0);
        want_y.at(n, o, pix / y.w(), pix % y.w()) = float(want);
        magnitude = std::max(magnitude, std::fabs(want));
      }
  int bad = 0;
  for (int n = 0; n < c.n; ++n)
    for (int o = 0; o < c.out; ++o)
      for (int pix = 0; pix < plane; ++pix) {
        const float got = y.at(n, o, pix / y.w(), pix % y.w());
        const int j = listed[std::size_t(n) * plane + pix];
        const double want = want_y.at(n, o, pix / y.w(), pix % y.w());
        const bool ok = j < 0 ? got == 0.f : std::fabs(got - want) <= 1e-5 * magnitude;
        const bool dense_ok = j < 0 || use_scale ||
                              std::fabs(got - dense.at(n, o, pix / y.w(), pix % y.w())) <= 1e-5 * magnitude;
        if ((!ok || !dense_ok) && bad++ < 5) {
          CAPTURE(n); CAPTURE(o); CAPTURE(pix); CAPTURE(j); CAPTURE(got); CAPTURE(want);
          FAIL_CHECK("conv2d_at output differs");
        }
      }
  CHECK(bad == 0);
}

// Partial convolution written from the spec, in double:
//   c = conv(m, ones(k x k)/(k*k); stride, padding, dilation) + 1e-8
//   y = conv(x*m, W, bias) / c + bias * (1 - 1/c), then (y * m', m')
// Returns y (zero where m' = 0) and c.
struct RenormOracle {
  Tensor y;
  std::vector<double> c;  // per output position of [N, OH, OW]
};

RenormOracle renorm_naive(const Tensor& x, const Mask& m, const Tensor& weight, const Tensor& bias,
                          const ConvParams& p) {
  Tensor xm = x.clone();
  m.apply(xm);
  RenormOracle out;
  out.y = conv2d_naive(xm, weight, bias, p);
  ConvParams pm = p;
  pm.in_channels = pm.out_channels = 1, pm.groups = 1;
  const Tensor box = Tensor::filled({1, 1, p.kernel, p.kernel}, 1.f / float(p.kernel * p.kernel));
  const Tensor visible = conv2d_naive(m.tensor(), box, Tensor(), pm);
  const Mask m_out = m.pooled(p.kernel, p.stride, p.padding, p.dilation);
  const int oh = out.y.h(), ow = out.y.w();
  out.c.resize(std::size_t(x.n()) * oh * ow);
  for (int n = 0; n < x.n(); ++n)
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox) {
        const double c = double(visible.at(n, 0, oy, ox)) + 1e-8;
        out.c[(std::size_t(n) * oh + oy) * ow + ox] = c;
        const bool kept = m_out.tensor().at(n, 0, oy, ox) == 1.f;
        for (int o = 0; o < out.y.c(); ++o) {
          const double b = bias.empty() ? 0.0 : bias.data()[o];
          const double v = double(out.y.at(n, o, oy, ox)) / c + b * (1.0 - 1.0 / c);
          out.y.at(n, o, oy, ox) = kept ? float(v) : 0.f;
        }
      }
  return out;
}

}  // namespace

TEST_CASE("masked ops: fill_frontier equals fill_reference within `steps` of the visible region") {
  struct Case { int h, w; double density; int steps; };
  const Case cases[] = {
      {13, 11, 0.02, 1}, {13, 11, 0.02, 3}, {13, 11, 0.02, 6}, {9, 17, 0.1, 2}, {9, 17, 0.1, 3},
      {15, 15, 0.3, 1},  {15, 15, 0.3, 2},  {7, 5, 0.7, 6},    {1, 9, 0.2, 3},  {9, 1, 0.2, 2},
      {5, 5, 0.0, 3},    {6, 7, 1.0, 3},    {21, 19, 0.01, 12},
  };
  std::uint32_t seed = 300;
  for (const Case& c : cases) {
    seed += 7;
    INFO("h=" << c.h << " w=" << c.w << " density=" << c.density << " steps=" << c.steps << " seed=" << seed);
    // N=2 with different masks; C=5. x holds 0 at removed positions, as the
    // contract requires.
    const Mask m = random_mask(2, c.h, c.w, c.density, seed);
    Tensor x = random_tensor({2, 5, c.h, c.w}, seed + 1, -2.f, 3.f);
    m.apply(x);
    const Tensor original = x.clone();
    Tensor ref = x.clone(), front = x.clone();
    fill_reference(ref, m, c.steps);
    fill_frontier(front, m, c.steps);
    const std::vector<int> dist = distance_to_visible(m);
    int bad = 0, inside = 0;
    for (int n = 0; n < 2; ++n)
      for (int ch = 0; ch < 5; ++ch)
        for (int y = 0; y < c.h; ++y)
          for (int xx = 0; xx < c.w; ++xx) {
            const int d = dist[(std::size_t(n) * c.h + y) * c.w + xx];
            const float r = ref.at(n, ch, y, xx), f = front.at(n, ch, y, xx);
            bool ok;
            if (d == 0) {
              ok = r == original.at(n, ch, y, xx) && f == r;  // known values never change
            } else if (d <= c.steps) {
              ++inside;
              ok = std::fabs(r - f) <= 1e-6f * std::max(1.f, std::fabs(r)) && std::isfinite(f);
            } else {
              ok = f == 0.f && r == 0.f;  // no known neighbour yet: still 0
            }
            if (!ok && bad++ < 5) {
              CAPTURE(n); CAPTURE(ch); CAPTURE(y); CAPTURE(xx); CAPTURE(d); CAPTURE(r); CAPTURE(f);
              FAIL_CHECK("fill differs");
            }
          }
    CHECK(bad == 0);
    if (c.density > 0.0 && c.density < 1.0) CHECK(inside > 0);
  }
}

TEST_CASE("masked ops: fill_reference on hand-computed examples (with the 1e-5)") {
  const double e = 1e-5;
  SUBCASE("3x3, only the centre visible, one step: every neighbour gets v/(1+1e-5)") {
    Tensor m({2, 1, 3, 3});
    m.at(0, 0, 1, 1) = 1.f;  // image 1 is all removed: stays all zero
    Tensor x({2, 2, 3, 3});
    x.at(0, 0, 1, 1) = 9.f, x.at(0, 1, 1, 1) = -3.f;
    fill_reference(x, Mask(m), 1);
    for (int y = 0; y < 3; ++y)
      for (int xx = 0; xx < 3; ++xx) {
        CAPTURE(y); CAPTURE(xx);
        const bool centre = y == 1 && xx == 1;
        CHECK(x.at(0, 0, y, xx) == doctest::Approx(centre ? 9.0 : 9.0 / (1 + e)).epsilon(1e-7));
        CHECK(x.at(0, 1, y, xx) == doctest::Approx(centre ? -3.0 : -3.0 / (1 + e)).epsilon(1e-7));
        CHECK(x.at(1, 0, y, xx) == 0.f);
        CHECK(x.at(1, 1, y, xx) == 0.f);
      }
    // Without the 1e-5 a neighbour would be exactly 9; with it, 9 - 9e-5.
    Tensor y({1, 1, 3, 3});
    y.at(0, 0, 1, 1) = 9.f;
    fill_reference(y, Mask(m.batch(0, 1)), 1);
    CHECK(y.at(0, 0, 0, 0) != 9.f);
    CHECK(std::fabs(y.at(0, 0, 0, 0) - (9.f - 9e-5f)) < 2e-6f);
  }
  SUBCASE("4x4, two visible pixels in the top row, two steps") {
    // Visible: (0,0) = 2 and (0,1) = 4. Worked from the formula:
    // step 1 writes every unknown position whose 3x3 window holds a known one:
    //   (0,2): knows (0,1)              -> 4 / (1+e)
    //   (1,0): knows (0,0),(0,1)         -> 6 / (2+e)
    //   (1,1): knows (0,0),(0,1),(0,2)?  (0,2) is still unknown -> 6 / (2+e)
    //   (1,2): knows (0,1)              -> 4 / (1+e)
    // step 2 (known: rows 0-1, columns 0-2):
    //   (0,3): (0,2),(1,2)              -> (a + a) / (2+e),          a = 4/(1+e)
    //   (1,3): (0,2),(1,2)              -> (a + a) / (2+e)
    //   (2,0): (1,0),(1,1)              -> (b + b) / (2+e),          b = 6/(2+e)
    //   (2,1): (1,0),(1,1),(1,2)        -> (b + b + a) / (3+e)
    //   (2,2): (1,1),(1,2)              -> (b + a) / (2+e)
    //   (2,3): (1,2)                    -> a / (1+e)
    // row 3 has no known neighbour yet: 0.
    const double a = 4 / (1 + e), b = 6 / (2 + e);
    const double want1[4][4] = {{2, 4, a, 0}, {b, b, a, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}};
    const double want2[4][4] = {{2, 4, a, 2 * a / (2 + e)},
                                {b, b, a, 2 * a / (2 + e)},
                                {2 * b / (2 + e), (2 * b + a) / (3 + e), (b + a) / (2 + e), a / (1 + e)},
                                {0, 0, 0, 0}};
    Tensor m({1, 1, 4, 4});
    m.at(0, 0, 0, 0) = m.at(0, 0, 0, 1) = 1.f;
    for (int steps : {1, 2}) {
      CAPTURE(steps);
      Tensor x({1, 1, 4, 4});
      x.at(0, 0, 0, 0) = 2.f, x.at(0, 0, 0, 1) = 4.f;
      Tensor f = x.clone();
      fill_reference(x, Mask(m), steps);
      fill_frontier(f, Mask(m), steps);
      for (int y = 0; y < 4; ++y)
        for (int xx = 0; xx < 4; ++xx) {
          CAPTURE(y); CAPTURE(xx);
          const double want = steps == 1 ? want1[y][xx] : want2[y][xx];
          CHECK(x.at(0, 0, y, xx) == doctest::Approx(want).epsilon(5e-7));
          CHECK(f.at(0, 0, y, xx) == doctest::Approx(want).epsilon(5e-7));
        }
    }
  }
}

TEST_CASE("masked ops: conv2d_at equals conv2d at the listed positions, 0 elsewhere") {
  struct Layout { int in, out, g; };
  const Layout layouts[] = {{6, 4, 1}, {6, 8, 2}, {5, 5, 5}};  // plain, groups 2, depthwise
  const double fractions[] = {0.0, 0.1, 0.5, 1.0};
  std::mt19937 pick(77);  // chooses bias/relu/inv_scale per case, reproducibly
  Workspace ws;           // shared: a dirty workspace must not matter
  int index = 0;
  for (int k : {1, 3, 7})
    for (int s : {1, 2})
      for (int p : {0, 1, 3})
        for (int d : {1, 2})
          for (const Layout& l : layouts) {
            const ConvCase c{3, l.in, l.out, 15, 14, k, s, p, d, l.g};
            const ConvParams cp = params_of(c);
            if (cp.out_size(c.h) < 1 || cp.out_size(c.w) < 1) continue;
            const int count = c.n * cp.out_size(c.h) * cp.out_size(c.w);
            const double fraction = fractions[index % 4];
            const std::uint32_t seed = 5000 + 10 * std::uint32_t(index);
            const std::vector<int> positions = random_positions(count, fraction, seed + 9);
            check_conv_at(c, positions, pick() % 2, pick() % 2, pick() % 3 == 0, ws, seed);
            ++index;
          }
  CHECK(index > 90);
}

TEST_CASE("masked ops: conv2d_at special cases: empty list, every position, several GEMM chunks") {
  Workspace ws;
  SUBCASE("an empty position list writes zeros everywhere, bias or not") {
    const ConvCase c{2, 3, 4, 7, 9, 3, 1, 1, 1, 1};
    check_conv_at(c, {}, true, false, false, ws, 11);
    check_conv_at(c, {}, true, true, true, ws, 12);
  }
  SUBCASE("every position equals the dense conv (odd sizes, stem-like stride 2)") {
    const ConvCase c{3, 3, 8, 23, 17, 7, 2, 3, 1, 1};
    const ConvParams p = params_of(c);
    std::vector<int> all(std::size_t(c.n * p.out_size(c.h) * p.out_size(c.w)));
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = int(i);
    check_conv_at(c, all, true, true, false, ws, 21);
    check_conv_at(c, all, false, false, true, ws, 22);
  }
  SUBCASE("positions spanning several GEMM chunks keep their own inv_scale") {
    // 256 input channels with a 3x3 kernel give 2304 GEMM rows; with 2
    // outputs a chunk holds 8M / 2306 = 3637 columns, fewer than the 3 * 37*37
    // = 4107 positions here, so the positions go through two chunks and
    // inv_scale must be indexed from the chunk's start.
    const ConvCase c{3, 256, 2, 37, 37, 3, 1, 1, 1, 1};
    const ConvParams p = params_of(c);
    std::vector<int> all(std::size_t(c.n * p.out_size(c.h) * p.out_size(c.w)));
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = int(i);
    REQUIRE(all.size() > std::size_t((8u << 20) / (p.col_rows() + 2)));
    check_conv_at(c, all, true, false, true, ws, 31);
    check_conv_at(c, random_positions(int(all.size()), 0.95, 32), true, true, true, ws, 33);
  }
}

TEST_CASE("masked ops: partial convolution (renorm) against the spec's formulas") {
  // lmask's ResNet convs carry a folded BatchNorm bias that is added after
  // the division: conv2d_at(x*m, W, b, inv = 1/c) = conv(x*m, W)/c + b. That
  // is exactly the spec's conv(x*m, W, b)/c + b*(1 - 1/c), so the oracle
  // below is the spec's formula and covers the bias-free case too.
  struct Case { ConvCase conv; double density; bool bias; };
  const Case cases[] = {
      {{2, 3, 4, 11, 9, 7, 2, 3, 1, 1}, 0.5, false},   // the stem
      {{2, 5, 6, 9, 10, 3, 1, 1, 1, 1}, 0.3, true},    // a 3x3 of a bottleneck
      {{2, 6, 6, 9, 10, 3, 2, 1, 1, 2}, 0.7, true},    // strided, groups
      {{3, 5, 5, 8, 7, 3, 1, 1, 2, 5}, 0.4, false},    // depthwise, dilated
      {{2, 4, 6, 9, 9, 1, 2, 0, 1, 1}, 0.5, true},     // the downsample 1x1 stride 2
      {{2, 4, 3, 7, 7, 1, 1, 0, 1, 1}, 0.1, false},    // 1x1: c = 1 wherever visible
      {{2, 4, 3, 13, 12, 7, 1, 3, 1, 1}, 0.05, true},  // sparse: tiny visible fractions
  };
  Workspace ws;
  std::uint32_t seed = 700;
  for (const Case& cs : cases) {
    seed += 10;
    const ConvCase& c = cs.conv;
    INFO(describe(c) << " density=" << cs.density << " bias=" << cs.bias << " seed=" << seed);
    const ConvParams p = params_of(c);
    const Mask m = random_mask(c.n, c.h, c.w, cs.density, seed);
    const Tensor x = random_tensor({c.n, c.in, c.h, c.w}, seed + 1);
    const Tensor weight = random_tensor(p.weight_shape(), seed + 2);
    const Tensor bias = cs.bias ? random_tensor({1, c.out, 1, 1}, seed + 3) : Tensor();
    const RenormOracle want = renorm_naive(x, m, weight, bias, p);

    // The library's way: positions = m' visible, inv = renorm_inv_scale.
    const std::vector<int> positions = m.pooled(p.kernel, p.stride, p.padding, p.dilation).visible_positions();
    const std::vector<float> inv = renorm_inv_scale(m, p, positions);
    REQUIRE(inv.size() == positions.size());
    for (std::size_t j = 0; j < positions.size(); ++j) {
      CAPTURE(positions[j]);
      const double c_want = want.c[positions[j]];
      REQUIRE(c_want > 1e-7);  // m' visible means a visible input in the window
      CHECK(inv[j] == doctest::Approx(1.0 / c_want).epsilon(1e-6));
    }
    Tensor xm = x.clone();
    m.apply(xm);
    Tensor y = Tensor::filled(want.y.shape(), kNaN);
    conv2d_at(y, xm, weight, bias, p, positions, ws, false, inv.data());
    double magnitude = 1.0, diff = 0.0;
    for (std::size_t i = 0; i < y.numel(); ++i) {
      magnitude = std::max(magnitude, std::fabs(double(want.y.data()[i])));
      const double dv = std::fabs(double(y.data()[i]) - want.y.data()[i]);
      diff = std::isfinite(dv) ? std::max(diff, dv) : std::numeric_limits<double>::infinity();
    }
    CAPTURE(diff); CAPTURE(magnitude);
    CHECK(diff <= 1e-5 * magnitude);
  }
}

TEST_CASE("masked ops: renorm with an all-visible mask: c = 1 in the interior, rescaled at the border") {
  struct Geometry { int k, s, p, d; };
  const Geometry geometries[] = {{7, 2, 3, 1}, {3, 1, 1, 1}, {3, 2, 1, 1}, {1, 2, 0, 1}, {3, 1, 2, 2}};
  for (const Geometry& g : geometries) {
    INFO("k=" << g.k << " s=" << g.s << " p=" << g.p << " d=" << g.d);
    ConvParams p;
    p.in_channels = 3, p.out_channels = 4, p.kernel = g.k, p.stride = g.s, p.padding = g.p, p.dilation = g.d;
    const int h = 17, w = 14;
    const Mask m = Mask::visible(2, h, w);
    const int oh = p.out_size(h), ow = p.out_size(w);
    std::vector<int> all(std::size_t(2 * oh * ow));
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = int(i);
    const std::vector<float> inv = renorm_inv_scale(m, p, all);
    int interior = 0;
    for (std::size_t j = 0; j < all.size(); ++j) {
      const int pix = all[j] % (oh * ow), oy = pix / ow, ox = pix % ow;
      const int y0 = oy * g.s - g.p, x0 = ox * g.s - g.p, span = g.d * (g.k - 1);
      const bool inside = y0 >= 0 && x0 >= 0 && y0 + span < h && x0 + span < w;
      CAPTURE(oy); CAPTURE(ox);
      if (inside) {
        ++interior;
        CHECK(inv[j] == 1.f);  // 1 + 1e-8 rounds to 1 in float: exactly the plain conv
      } else {
        CHECK(inv[j] > 1.f);  // part of the window is padding, which counts as removed
      }
    }
    CHECK(interior > 0);
    // In the interior the renormalised conv is the plain conv.
    const Tensor x = random_tensor({2, 3, h, w}, 91);
    const Tensor weight = random_tensor(p.weight_shape(), 92);
    const Tensor bias = random_tensor({1, 4, 1, 1}, 93);
    Workspace ws;
    Tensor renorm(p.out_shape(x.shape())), plain(p.out_shape(x.shape()));
    conv2d_at(renorm, x, weight, bias, p, all, ws, false, inv.data());
    conv2d(plain, x, weight, bias, p, ws, false);
    for (std::size_t j = 0; j < all.size(); ++j)
      if (inv[j] == 1.f) {
        const int n = all[j] / (oh * ow), pix = all[j] % (oh * ow);
        for (int o = 0; o < 4; ++o)
          CHECK(renorm.at(n, o, pix / ow, pix % ow) == doctest::Approx(plain.at(n, o, pix / ow, pix % ow)).epsilon(1e-5));
      }
  }
}

TEST_CASE("masked ops: masked_avgpool averages over visible positions only") {
  struct Case { int n, c, h, w; };
  const Case cases[] = {{4, 7, 5, 3}, {4, 1, 1, 1}, {4, 3, 7, 7}, {4, 2048, 7, 7}};
  std::uint32_t seed = 900;
  for (const Case& cs : cases) {
    seed += 5;
    INFO("n=" << cs.n << " c=" << cs.c << " h=" << cs.h << " w=" << cs.w << " seed=" << seed);
    // Image 0 random, 1 all visible, 2 all removed, 3 a single visible pixel.
    Tensor mt = random_mask(cs.n, cs.h, cs.w, 0.4, seed).tensor().clone();
    std::fill(mt.image(1), mt.image(1) + cs.h * cs.w, 1.f);
    std::fill(mt.image(2), mt.image(2) + cs.h * cs.w, 0.f);
    std::fill(mt.image(3), mt.image(3) + cs.h * cs.w, 0.f);
    mt.at(3, 0, cs.h / 2, cs.w - 1) = 1.f;
    const Mask m(mt);
    const Tensor x = random_tensor({cs.n, cs.c, cs.h, cs.w}, seed + 1, -3.f, 5.f);
    Tensor y = Tensor::filled({cs.n, cs.c, 1, 1}, kNaN);
    masked_avgpool(y, x, m);
    const double hw = double(cs.h) * cs.w;
    for (int n = 0; n < cs.n; ++n)
      for (int c = 0; c < cs.c; ++c) {
        double sum = 0.0, visible = 0.0;
        for (int yy = 0; yy < cs.h; ++yy)
          for (int xx = 0; xx < cs.w; ++xx) {
            sum += double(x.at(n, c, yy, xx)) * m.tensor().at(n, 0, yy, xx);
            visible += m.tensor().at(n, 0, yy, xx);
          }
        const double want = (sum / hw) / (visible / hw + 1e-8);
        if (std::fabs(y.at(n, c, 0, 0) - want) > 1e-5 * std::max(1.0, std::fabs(want))) {
          CAPTURE(n); CAPTURE(c); CAPTURE(want);
          CAPTURE(y.at(n, c, 0, 0));
          FAIL_CHECK("masked_avgpool differs");
        }
      }
    for (int c = 0; c < cs.c; ++c) CHECK(y.at(2, c, 0, 0) == 0.f);  // all removed gives 0
    CHECK(y.at(3, 0, 0, 0) == doctest::Approx(x.at(3, 0, cs.h / 2, cs.w - 1)).epsilon(1e-5));
  }
  Tensor wrong({2, 3, 2, 2});
  CHECK_THROWS(masked_avgpool(wrong, random_tensor({2, 3, 4, 4}, 1), Mask::visible(2, 4, 4)));
}
