// test_mask.cpp — the Mask type (validation, resolution changes, products,
// counts) and every mask builder (patch grids, random patch orders, segments,
// rectangles, disks, stacking, masks drawn as PNG files), against naive
// definitions written out here. Fixed seeds; each case prints its parameters.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "lmask/error.h"
#include "lmask/image.h"
#include "lmask/mask.h"
#include "lmask/mask_builders.h"
#include "reference_ops.h"
#include "temp_dir.h"

using namespace lmask;
using lmask::testing::random_mask;
using lmask::testing::random_tensor;
namespace fs = std::filesystem;

using lmask::testing::TempDir;

namespace {

// The output mask of a window op, straight from its definition: visible iff
// some in-image position of the (dilated) window is visible. Positions in the
// padding are simply not looked at, so padding can never make an output visible.
Tensor pooled_naive(const Tensor& m, int k, int s, int p, int d) {
  const int oh = (m.h() + 2 * p - d * (k - 1) - 1) / s + 1;
  const int ow = (m.w() + 2 * p - d * (k - 1) - 1) / s + 1;
  Tensor out({m.n(), 1, oh, ow});
  for (int n = 0; n < m.n(); ++n)
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox) {
        bool any = false;
        for (int ky = 0; ky < k; ++ky)
          for (int kx = 0; kx < k; ++kx) {
            const int iy = oy * s - p + ky * d, ix = ox * s - p + kx * d;
            if (iy >= 0 && iy < m.h() && ix >= 0 && ix < m.w() && m.at(n, 0, iy, ix) == 1.f) any = true;
          }
        out.at(n, 0, oy, ox) = any ? 1.f : 0.f;
      }
  return out;
}

bool same_values(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::equal(a.data(), a.data() + a.numel(), b.data());
}

// A w x h picture of `outside` with the rectangle [x0,x1) x [y0,y1) in `inside`.
ImageU8 rectangle_picture(int w, int h, int x0, int y0, int x1, int y1, const std::uint8_t outside[3],
                          const std::uint8_t inside[3]) {
  ImageU8 img(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const bool in = x >= x0 && x < x1 && y >= y0 && y < y1;
      std::copy(in ? inside : outside, (in ? inside : outside) + 3, img.pixel(x, y));
    }
  return img;
}

}  // namespace

TEST_CASE("mask: the constructor rejects non-binary values and multi-channel tensors") {
  // A value that is not exactly 0 or 1, anywhere in the batch, is refused:
  // masks multiply activations, so 0.5 would silently scale them.
  struct Bad { float value; const char* what; };
  const Bad bad[] = {{0.5f, "half"}, {2.f, "two"}, {-1.f, "minus one"}, {1e-30f, "denormal-ish"},
                     {std::numeric_limits<float>::quiet_NaN(), "NaN"},
                     {std::numeric_limits<float>::infinity(), "inf"}};
  for (const Bad& b : bad) {
    CAPTURE(b.what);
    Tensor t = Tensor::filled({2, 1, 3, 4}, 1.f);
    t.at(1, 0, 2, 3) = b.value;  // the very last element
    CHECK_THROWS_AS(Mask{t}, std::invalid_argument);
  }
  // More than one channel: a mask is one map per image, broadcast over channels.
  CHECK_THROWS_AS(Mask(Tensor::filled({1, 2, 3, 3}, 1.f)), std::invalid_argument);
  CHECK_THROWS_AS(Mask(Tensor::filled({1, 3, 3, 3}, 0.f)), std::invalid_argument);
  // -0.0 is 0; valid masks of any n/h/w are accepted.
  Tensor ok = Tensor::filled({3, 1, 1, 5}, 0.f);
  ok.at(0, 0, 0, 0) = -0.f;
  ok.at(2, 0, 0, 4) = 1.f;
  CHECK_NOTHROW(Mask{ok});
  CHECK(Mask::visible(2, 3, 4).all_visible());
  CHECK(Mask::removed(2, 3, 4).count_visible() == 0);
  CHECK(Mask::visible(2, 3, 4).tensor().shape() == Shape{2, 1, 3, 4});
}

TEST_CASE("mask: pooled equals a naive max over windows") {
  // Every kernel/stride/padding/dilation combination of the brief, on odd
  // sizes, several densities and N=2 with different masks per image.
  struct Size { int h, w; };
  const Size sizes[] = {{11, 9}, {16, 15}, {5, 7}};
  const double densities[] = {0.03, 0.3, 0.9};
  std::uint32_t seed = 1000;
  int checked = 0;
  for (int k : {1, 3, 7})
    for (int s : {1, 2})
      for (int p : {0, 1, 3})
        for (int d : {1, 2})
          for (const Size& sz : sizes)
            for (double density : densities) {
              ++seed;
              const int extent = d * (k - 1) + 1;
              if (sz.h + 2 * p < extent || sz.w + 2 * p < extent) continue;  // no output
              INFO("k=" << k << " s=" << s << " p=" << p << " d=" << d << " h=" << sz.h << " w=" << sz.w
                        << " density=" << density << " seed=" << seed);
              const Mask m = random_mask(2, sz.h, sz.w, density, seed);
              const Mask got = m.pooled(k, s, p, d);
              const Tensor want = pooled_naive(m.tensor(), k, s, p, d);
              REQUIRE(got.tensor().shape() == want.shape());
              CHECK(same_values(got.tensor(), want));
              // Padding never wins: an all-removed mask stays all-removed.
              const Mask none = Mask::removed(2, sz.h, sz.w).pooled(k, s, p, d);
              CHECK(none.count_visible() == 0);
              // All-visible: visible exactly where the window touches the image.
              CHECK(same_values(Mask::visible(1, sz.h, sz.w).pooled(k, s, p, d).tensor(),
                                pooled_naive(Mask::visible(1, sz.h, sz.w).tensor(), k, s, p, d)));
              ++checked;
            }
  CHECK(checked > 150);
  // Hand case: 1x1 kernel with padding 3 reads only padding at the corners.
  const Mask ones = Mask::visible(1, 2, 2).pooled(1, 1, 3);
  CHECK(ones.h() == 8);
  CHECK(ones.tensor().at(0, 0, 0, 0) == 0.f);
  CHECK(ones.tensor().at(0, 0, 3, 3) == 1.f);
  CHECK(ones.count_visible() == 4);
  // The ResNet stem: one visible pixel in 224x224 survives conv1 (7,2,3) and
  // the max-pool (3,2,1) as a small visible patch, nothing more.
  Tensor one({1, 1, 224, 224});
  one.at(0, 0, 100, 100) = 1.f;
  const Mask stem = Mask(one).pooled(7, 2, 3).pooled(3, 2, 1);
  CHECK(stem.h() == 56);
  CHECK(stem.count_visible() >= 1);
  CHECK(stem.count_visible() <= 9);
}

TEST_CASE("mask: pooled(PoolParams) with ceil_mode equals a naive any over the clipped windows") {
  // Visible iff some in-image position of the window is visible; padding and
  // (in ceil mode) positions past the input are not looked at.
  auto naive = [](const Tensor& m, const PoolParams& p) {
    const int oh = lmask::testing::pool_out_size_naive(m.h(), p);
    const int ow = lmask::testing::pool_out_size_naive(m.w(), p);
    Tensor out({m.n(), 1, oh, ow});
    for (int n = 0; n < m.n(); ++n)
      for (int oy = 0; oy < oh; ++oy)
        for (int ox = 0; ox < ow; ++ox) {
          bool any = false;
          for (int ky = 0; ky < p.kernel; ++ky)
            for (int kx = 0; kx < p.kernel; ++kx) {
              const int iy = oy * p.stride - p.padding + ky, ix = ox * p.stride - p.padding + kx;
              if (iy >= 0 && iy < m.h() && ix >= 0 && ix < m.w() && m.at(n, 0, iy, ix) == 1.f) any = true;
            }
          out.at(n, 0, oy, ox) = any ? 1.f : 0.f;
        }
    return out;
  };
  struct Size { int h, w; };
  const Size sizes[] = {{11, 9}, {16, 15}, {6, 8}, {1, 1}, {2, 3}};
  std::uint32_t seed = 3000;
  int checked = 0;
  for (int k : {1, 2, 3, 5})
    for (int s : {1, 2, 3})
      for (int p = 0; p <= k / 2; ++p)
        for (bool ceil : {false, true})
          for (const Size& sz : sizes)
            for (double density : {0.05, 0.5}) {
              ++seed;
              PoolParams pp;
              pp.kernel = k, pp.stride = s, pp.padding = p, pp.ceil_mode = ceil;
              if (lmask::testing::pool_out_size_naive(sz.h, pp) < 1 ||
                  lmask::testing::pool_out_size_naive(sz.w, pp) < 1)
                continue;  // no output: out_size refuses it
              INFO("k=" << k << " s=" << s << " p=" << p << " ceil=" << ceil << " h=" << sz.h
                        << " w=" << sz.w << " density=" << density << " seed=" << seed);
              const Mask m = random_mask(2, sz.h, sz.w, density, seed);
              const Mask got = m.pooled(pp);
              const Tensor want = naive(m.tensor(), pp);
              REQUIRE(got.tensor().shape() == want.shape());
              CHECK(same_values(got.tensor(), want));
              if (!ceil) CHECK(same_values(m.pooled(k, s, p).tensor(), want));  // the same rule
              CHECK(Mask::removed(2, sz.h, sz.w).pooled(pp).count_visible() == 0);
              ++checked;
            }
  CHECK(checked > 150);
  // By hand: 3x6, kernel 3, stride 2. Floor mode's column windows [0,3),
  // [2,5) miss column 5; ceil mode's third, [4,7), holds it (and one
  // position past the input).
  Tensor last_column({1, 1, 3, 6});
  last_column.at(0, 0, 1, 5) = 1.f;
  PoolParams pp;
  pp.kernel = 3, pp.stride = 2;
  CHECK(Mask(last_column).pooled(pp).count_visible() == 0);
  pp.ceil_mode = true;
  const Mask hanging = Mask(last_column).pooled(pp);
  REQUIRE(hanging.w() == 3);
  CHECK(hanging.tensor().at(0, 0, 0, 2) == 1.f);
  CHECK(hanging.count_visible() == 1);
  pp.padding = 2;  // more than kernel/2: refused, as PyTorch does
  CHECK_THROWS_AS(Mask(last_column).pooled(pp), std::invalid_argument);
}

TEST_CASE("mask: operator*, apply and the counting helpers") {
  const Mask a = random_mask(3, 7, 5, 0.5, 11), b = random_mask(3, 7, 5, 0.6, 12);
  const Mask ab = a * b;
  for (std::size_t i = 0; i < ab.tensor().numel(); ++i)
    CHECK(ab.tensor().data()[i] == a.tensor().data()[i] * b.tensor().data()[i]);
  CHECK_THROWS(a * random_mask(3, 7, 6, 0.5, 13));  // sizes must agree
  CHECK_THROWS(a * random_mask(2, 7, 5, 0.5, 13));

  // apply broadcasts the mask over channels, per image.
  const Tensor x0 = random_tensor({3, 4, 7, 5}, 21);
  Tensor x = x0.clone();
  a.apply(x);
  for (int n = 0; n < 3; ++n)
    for (int c = 0; c < 4; ++c)
      for (int y = 0; y < 7; ++y)
        for (int xx = 0; xx < 5; ++xx) {
          CAPTURE(n); CAPTURE(c); CAPTURE(y); CAPTURE(xx);
          REQUIRE(x.at(n, c, y, xx) == x0.at(n, c, y, xx) * a.tensor().at(n, 0, y, xx));
        }
  Tensor wrong = random_tensor({3, 4, 7, 6}, 22);
  CHECK_THROWS(a.apply(wrong));
  Tensor wrong_n = random_tensor({2, 4, 7, 5}, 23);
  CHECK_THROWS(a.apply(wrong_n));

  // Counts, fraction and positions against direct loops.
  std::size_t total = 0;
  std::vector<int> positions;
  for (int n = 0; n < 3; ++n) {
    std::size_t per_image = 0;
    for (int y = 0; y < 7; ++y)
      for (int xx = 0; xx < 5; ++xx)
        if (a.tensor().at(n, 0, y, xx) == 1.f) ++per_image, positions.push_back(n * 35 + y * 5 + xx);
    CAPTURE(n);
    CHECK(a.count_visible(n) == per_image);
    total += per_image;
  }
  CHECK(a.count_visible() == total);
  CHECK(a.visible_fraction() == doctest::Approx(double(total) / 105.0));
  CHECK(a.visible_positions() == positions);
  CHECK_FALSE(a.all_visible());
  CHECK(Mask::visible(2, 3, 3).all_visible());
  CHECK(Mask::visible(2, 3, 3).visible_fraction() == 1.0);
  CHECK(Mask::removed(2, 3, 3).visible_fraction() == 0.0);
  CHECK(Mask::removed(2, 3, 3).visible_positions().empty());
  // One removed pixel in the last image is enough to break all_visible.
  Tensor almost = Tensor::filled({2, 1, 3, 3}, 1.f);
  almost.at(1, 0, 2, 2) = 0.f;
  CHECK_FALSE(Mask(almost).all_visible());
  CHECK(Mask(almost).visible_positions().size() == 17);
  // batch() is a view of images [first, first+count).
  const Mask second = a.batch(1, 2);
  CHECK(second.n() == 2);
  CHECK(second.count_visible(0) == a.count_visible(1));
  CHECK(second.count_visible(1) == a.count_visible(2));
}

TEST_CASE("mask: patch_mask numbers patches row-major, last row/column cut short") {
  // 20x30 with patch 8: 3 rows (8, 8, 4 pixels) x 4 columns (8, 8, 8, 6 pixels).
  const int h = 20, w = 30, patch = 8;
  REQUIRE(patch_count(h, w, patch) == 12);
  CHECK(patch_count(16, 16, 8) == 4);
  CHECK(patch_count(1, 1, 8) == 1);
  CHECK(patch_count(224, 224, 16) == 196);
  CHECK_THROWS(patch_count(8, 8, 0));
  const int row_y0[] = {0, 8, 16}, row_y1[] = {8, 16, 20};
  const int col_x0[] = {0, 8, 16, 24}, col_x1[] = {8, 16, 24, 30};
  for (int id = 0; id < 12; ++id) {
    CAPTURE(id);
    const Mask m = patch_mask(h, w, patch, {id});
    REQUIRE(m.tensor().shape() == Shape{1, 1, h, w});
    const int r = id / 4, c = id % 4;
    const int area = (row_y1[r] - row_y0[r]) * (col_x1[c] - col_x0[c]);
    CHECK(m.count_visible() == std::size_t(h * w - area));
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const bool removed = y >= row_y0[r] && y < row_y1[r] && x >= col_x0[c] && x < col_x1[c];
        if (m.tensor().at(0, 0, y, x) != (removed ? 0.f : 1.f)) {
          CAPTURE(y); CAPTURE(x);
          FAIL_CHECK("wrong value");
        }
      }
  }
  // Several ids at once, duplicates harmless; none removes nothing.
  CHECK(patch_mask(h, w, patch, {}).all_visible());
  CHECK(patch_mask(h, w, patch, {11, 11, 0}).count_visible() == std::size_t(600 - 24 - 64));
  std::vector<int> all(12);
  for (int i = 0; i < 12; ++i) all[i] = i;
  CHECK(patch_mask(h, w, patch, all).count_visible() == 0);
  CHECK_THROWS_AS(patch_mask(h, w, patch, {12}), std::out_of_range);
  CHECK_THROWS_AS(patch_mask(h, w, patch, {-1}), std::out_of_range);
}

TEST_CASE("mask: random_order is a seeded permutation") {
  for (int count : {0, 1, 2, 7, 196, 1000}) {
    for (std::uint64_t seed : {0ull, 1ull, 42ull, 0xffffffffffffffffull}) {
      CAPTURE(count); CAPTURE(seed);
      const std::vector<int> order = random_order(count, seed);
      REQUIRE(order.size() == std::size_t(count));
      std::vector<int> sorted = order;
      std::sort(sorted.begin(), sorted.end());
      for (int i = 0; i < count; ++i) REQUIRE(sorted[i] == i);
      CHECK(random_order(count, seed) == order);  // deterministic
    }
  }
  // Different seeds give different orders (for a count where a collision
  // would be astronomically unlikely), and the order is not the identity.
  std::set<std::vector<int>> distinct;
  for (std::uint64_t seed = 0; seed < 20; ++seed) distinct.insert(random_order(196, seed));
  CHECK(distinct.size() == 20);
  std::vector<int> identity(196);
  for (int i = 0; i < 196; ++i) identity[i] = i;
  CHECK(random_order(196, 7) != identity);
}

TEST_CASE("mask: random_patch_mask removes exactly round(f * count) patches") {
  struct Case { int h, w, patch; };
  const Case cases[] = {{224, 224, 16}, {20, 30, 8}, {35, 21, 7}, {9, 9, 4}};
  const double fractions[] = {0.0, 0.1, 0.25, 0.3, 0.5, 0.7, 0.999, 1.0};
  for (const Case& c : cases)
    for (double f : fractions)
      for (std::uint64_t seed : {0ull, 5ull}) {
        INFO("h=" << c.h << " w=" << c.w << " patch=" << c.patch << " f=" << f << " seed=" << seed);
        const int count = patch_count(c.h, c.w, c.patch);
        const int cols = (c.w + c.patch - 1) / c.patch;
        const long want = std::lround(f * count);
        const Mask m = random_patch_mask(c.h, c.w, c.patch, f, seed);
        // Each patch is wholly visible or wholly removed; count the removed.
        std::vector<int> removed;
        for (int id = 0; id < count; ++id) {
          const int y0 = id / cols * c.patch, x0 = id % cols * c.patch;
          int zeros = 0, cells = 0;
          for (int y = y0; y < std::min(y0 + c.patch, c.h); ++y)
            for (int x = x0; x < std::min(x0 + c.patch, c.w); ++x, ++cells)
              zeros += m.tensor().at(0, 0, y, x) == 0.f;
          CHECK((zeros == 0 || zeros == cells));
          if (zeros) removed.push_back(id);
        }
        CHECK(long(removed.size()) == want);
        // ... and they are the first `want` ids of random_order(seed).
        std::vector<int> order = random_order(count, seed);
        order.resize(std::size_t(want));
        std::sort(order.begin(), order.end());
        CHECK(removed == order);
        CHECK(same_values(random_patch_mask(c.h, c.w, c.patch, f, seed).tensor(), m.tensor()));
      }
  // Different seeds, different masks.
  CHECK_FALSE(same_values(random_patch_mask(224, 224, 16, 0.5, 1).tensor(),
                          random_patch_mask(224, 224, 16, 0.5, 2).tensor()));
  CHECK_THROWS(random_patch_mask(16, 16, 8, -0.1, 0));
  CHECK_THROWS(random_patch_mask(16, 16, 8, 1.5, 0));
}

TEST_CASE("mask: segment_mask, rectangle_mask and disk_mask") {
  SUBCASE("segment_mask removes the pixels of the listed segment ids") {
    const int h = 6, w = 5;
    std::vector<int> seg(h * w);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) seg[y * w + x] = (y / 2) * 3 + (x / 2);  // 3x3 blocks of ids 0..8
    seg[0] = -1;  // an unlabelled pixel is never removed
    const std::vector<int> removed = {0, 4, 8, 99, -1};  // unknown ids are ignored
    const Mask m = segment_mask(seg, h, w, removed);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        CAPTURE(y); CAPTURE(x);
        const int id = seg[y * w + x];
        const bool gone = id == 0 || id == 4 || id == 8;
        CHECK(m.tensor().at(0, 0, y, x) == (gone ? 0.f : 1.f));
      }
    CHECK(segment_mask(seg, h, w, {}).all_visible());
    CHECK_THROWS(segment_mask(seg, h, w + 1, {0}));
  }
  SUBCASE("rectangle_mask removes [x0,x1) x [y0,y1), clipped to the image") {
    struct Rect { int x0, y0, x1, y1; };
    const Rect rects[] = {{2, 1, 5, 4}, {0, 0, 9, 7}, {-3, -2, 2, 3}, {6, 5, 20, 20}, {4, 4, 4, 6}, {5, 3, 2, 1}};
    for (const Rect& r : rects) {
      INFO("rect " << r.x0 << "," << r.y0 << " .. " << r.x1 << "," << r.y1);
      const Mask m = rectangle_mask(7, 9, r.x0, r.y0, r.x1, r.y1);
      REQUIRE(m.tensor().shape() == Shape{1, 1, 7, 9});
      for (int y = 0; y < 7; ++y)
        for (int x = 0; x < 9; ++x) {
          const bool gone = x >= r.x0 && x < r.x1 && y >= r.y0 && y < r.y1;
          if (m.tensor().at(0, 0, y, x) != (gone ? 0.f : 1.f)) {
            CAPTURE(y); CAPTURE(x);
            FAIL_CHECK("wrong value");
          }
        }
    }
  }
  SUBCASE("disk_mask removes (x-cx)^2 + (y-cy)^2 <= r^2, boundary included") {
    struct Disk { double cx, cy, r; };
    const Disk disks[] = {{5, 5, 3}, {0, 0, 2.5}, {4.5, 3.5, 1}, {5, 5, 0}, {20, 20, 1}, {5, 4, 100}};
    for (const Disk& d : disks) {
      INFO("disk cx=" << d.cx << " cy=" << d.cy << " r=" << d.r);
      const Mask m = disk_mask(9, 11, d.cx, d.cy, d.r);
      for (int y = 0; y < 9; ++y)
        for (int x = 0; x < 11; ++x) {
          const double dx = x - d.cx, dy = y - d.cy;
          const bool gone = dx * dx + dy * dy <= d.r * d.r;
          if (m.tensor().at(0, 0, y, x) != (gone ? 0.f : 1.f)) {
            CAPTURE(y); CAPTURE(x);
            FAIL_CHECK("wrong value");
          }
        }
    }
    // Hand-checked points of the first disk: the boundary (8,5) is removed.
    const Mask m = disk_mask(9, 11, 5, 5, 3);
    CHECK(m.tensor().at(0, 0, 5, 8) == 0.f);
    CHECK(m.tensor().at(0, 0, 5, 9) == 1.f);
    CHECK(m.tensor().at(0, 0, 7, 7) == 0.f);  // 4 + 4 <= 9
    CHECK(m.tensor().at(0, 0, 7, 8) == 1.f);  // 9 + 4 > 9
    CHECK(disk_mask(9, 11, 5, 5, 0).count_visible() == 98u);  // only the centre pixel
  }
}

TEST_CASE("mask: stack_masks makes one batch in order") {
  const Mask a = random_mask(1, 5, 6, 0.5, 31), b = random_mask(2, 5, 6, 0.5, 32),
             c = rectangle_mask(5, 6, 1, 1, 3, 3);
  const Mask s = stack_masks({a, b, c});
  REQUIRE(s.tensor().shape() == Shape{4, 1, 5, 6});
  CHECK(same_values(s.batch(0, 1).tensor().clone(), a.tensor()));
  CHECK(same_values(s.batch(1, 2).tensor().clone(), b.tensor()));
  CHECK(same_values(s.batch(3, 1).tensor().clone(), c.tensor()));
  CHECK_THROWS(stack_masks({}));
  CHECK_THROWS(stack_masks({a, random_mask(1, 5, 7, 0.5, 33)}));
}

TEST_CASE("mask: mask_from_png follows the photo's resize + center crop") {
  TempDir tmp("mask");
  const std::uint8_t black[3] = {0, 0, 0}, white[3] = {255, 255, 255}, dark_red[3] = {1, 0, 0};

  // A 300x200 (landscape) and a 200x300 (portrait) photo. Resize(256) makes
  // the short side 256 and the long one int(256*300/200) = 384; CenterCrop(224)
  // then starts at round((384-224)/2) = 80 along the long side and at
  // round((256-224)/2) = 16 along the short one. A crop pixel (cx, cy)
  // therefore shows the mask near ((cx+80+0.5)*300/384, (cy+16+0.5)*200/256)
  // (landscape). Nearest-neighbour rounding is only checked away from the
  // rectangle's edges (2 mask pixels), so the exact tie rule does not matter.
  struct Photo { int w, h; int x0, y0, x1, y1; };
  const Photo photos[] = {{300, 200, 100, 50, 200, 150}, {200, 300, 30, 120, 170, 260}};
  for (const Photo& ph : photos) {
    INFO("photo " << ph.w << "x" << ph.h << " rect [" << ph.x0 << "," << ph.x1 << ")x[" << ph.y0 << ","
                  << ph.y1 << ")");
    const bool landscape = ph.w > ph.h;
    const double scale = 200.0 / 256.0;  // original pixels per resized pixel
    const int off_x = landscape ? 80 : 16, off_y = landscape ? 16 : 80;
    // Outside drawn dark red (one non-zero channel counts as visible), the
    // rectangle black = removed; and the inverse drawing with --invert.
    const std::string removed_png = tmp.file("rect_removed.png");
    const std::string visible_png = tmp.file("rect_visible.png");
    write_png(removed_png, rectangle_picture(ph.w, ph.h, ph.x0, ph.y0, ph.x1, ph.y1, dark_red, black));
    write_png(visible_png, rectangle_picture(ph.w, ph.h, ph.x0, ph.y0, ph.x1, ph.y1, black, white));
    const Mask m = mask_from_png(removed_png, ph.w, ph.h, 256, 224, false);
    const Mask inv = mask_from_png(visible_png, ph.w, ph.h, 256, 224, true);
    REQUIRE(m.tensor().shape() == Shape{1, 1, 224, 224});
    CHECK(same_values(m.tensor(), inv.tensor()));  // same meaning, drawn the other way round
    int checked = 0, inside = 0;
    for (int cy = 0; cy < 224; ++cy)
      for (int cx = 0; cx < 224; ++cx) {
        const double ox = (cx + off_x + 0.5) * scale, oy = (cy + off_y + 0.5) * scale;
        const double margin = 2.0;
        const bool near_edge = std::fabs(ox - ph.x0) < margin || std::fabs(ox - ph.x1) < margin ||
                               std::fabs(oy - ph.y0) < margin || std::fabs(oy - ph.y1) < margin;
        if (near_edge) continue;
        const bool in = ox >= ph.x0 && ox < ph.x1 && oy >= ph.y0 && oy < ph.y1;
        inside += in;
        ++checked;
        if (m.tensor().at(0, 0, cy, cx) != (in ? 0.f : 1.f)) {
          CAPTURE(cx); CAPTURE(cy); CAPTURE(ox); CAPTURE(oy);
          FAIL_CHECK("mask pixel maps to the wrong side of the rectangle");
        }
      }
    CHECK(checked > 40000);
    CHECK(inside > 1000);
    // Without invert, the white-rectangle drawing means the opposite.
    const Mask plain = mask_from_png(visible_png, ph.w, ph.h, 256, 224, false);
    CHECK(plain.count_visible() == 224u * 224u - m.count_visible());
  }
  // The landscape photo, two points by hand: crop (112,112) shows the photo
  // at about (150,100), the rectangle's middle; crop (10,10) about (70,20).
  write_png(tmp.file("landscape.png"), rectangle_picture(300, 200, 100, 50, 200, 150, white, black));
  const Mask land = mask_from_png(tmp.file("landscape.png"), 300, 200, 256, 224, false);
  CHECK(land.tensor().at(0, 0, 112, 112) == 0.f);
  CHECK(land.tensor().at(0, 0, 10, 10) == 1.f);
  CHECK(mask_from_png(tmp.file("landscape.png"), 300, 200, 256, 224, true).tensor().at(0, 0, 112, 112) == 1.f);
}

TEST_CASE("mask: mask_from_png refuses a mask of another size, naming the file") {
  TempDir tmp("mask");
  const std::uint8_t white[3] = {255, 255, 255};
  const std::string path = tmp.file("wrong_size_mask.png");
  write_png(path, rectangle_picture(301, 200, 0, 0, 0, 0, white, white));
  struct Expect { int w, h; };
  for (const Expect e : {Expect{300, 200}, Expect{301, 201}, Expect{200, 301}}) {
    CAPTURE(e.w); CAPTURE(e.h);
    try {
      mask_from_png(path, e.w, e.h, 256, 224, false);
      FAIL_CHECK("no error for a mask of the wrong size");
    } catch (const InputError& err) {
      const std::string what = err.what();
      CAPTURE(what);
      CHECK(what.find(path) != std::string::npos);
      CHECK(what.find("301x200") != std::string::npos);
      CHECK(what.find('\n') == std::string::npos);
    }
  }
  CHECK_NOTHROW(mask_from_png(path, 301, 200, 256, 224, false));
  CHECK(mask_from_png(path, 301, 200, 256, 224, false).all_visible());
  // A missing mask file is an InputError too, naming it.
  try {
    mask_from_png(tmp.file("missing.png"), 10, 10, 256, 224, false);
    FAIL_CHECK("no error for a missing mask");
  } catch (const InputError& err) {
    CHECK(std::string(err.what()).find("missing.png") != std::string::npos);
  }
}

TEST_CASE("mask: a JPEG mask is refused, and an all-zero PNG is an all-removed mask") {
  TempDir tmp("mask");
  // A JPEG: compression noise would turn black (removed) into visible.
  const std::string jpeg_path = tmp.file("mask.png");  // the name does not matter, the bytes do
  {
    const unsigned char jpeg_magic[] = {0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0};
    std::FILE* f = std::fopen(jpeg_path.c_str(), "wb");
    REQUIRE(f != nullptr);
    std::fwrite(jpeg_magic, 1, sizeof jpeg_magic, f);
    std::fclose(f);
  }
  try {
    mask_from_png(jpeg_path, 10, 10, 256, 224, false);
    FAIL_CHECK("no error for a JPEG mask");
  } catch (const InputError& e) {
    const std::string what = e.what();
    CAPTURE(what);
    CHECK(what.rfind(jpeg_path + ": mask is a JPEG", 0) == 0);
  }
  // All zero: allowed here (an object mask may be empty); every pixel removed.
  write_png(tmp.file("zero.png"), ImageU8(30, 20));
  CHECK(mask_from_png(tmp.file("zero.png"), 30, 20, 16, 16, false).count_visible() == 0);
  CHECK(mask_from_png(tmp.file("zero.png"), 30, 20, 16, 16, true).all_visible());
  // Any non-zero value is visible: nothing is "non-binary" in a PNG mask.
  ImageU8 faint(30, 20);
  faint.rgb.assign(faint.rgb.size(), 0);
  for (std::size_t i = 2; i < faint.rgb.size(); i += 3) faint.rgb[i] = 1;  // blue 1 of 255
  write_png(tmp.file("faint.png"), faint);
  CHECK(mask_from_png(tmp.file("faint.png"), 30, 20, 16, 16, false).all_visible());
}

TEST_CASE("mask: builders stay in bounds for extreme sizes, ids and fractions") {
  // A patch larger than the image, even INT_MAX: one patch, no overflow.
  CHECK(patch_count(5, 7, std::numeric_limits<int>::max()) == 1);
  CHECK(patch_mask(5, 7, std::numeric_limits<int>::max(), {0}).count_visible() == 0);
  CHECK(patch_count(0, 7, 3) == 0);
  CHECK_THROWS_AS(patch_count(-1, 7, 3), std::invalid_argument);
  // NaN is not a fraction (a NaN rounded to a count is undefined).
  CHECK_THROWS_AS(random_patch_mask(8, 8, 2, std::nan(""), 0), std::invalid_argument);
  // Segment ids far beyond the image's pixel count are never removed, and
  // need no table of that size.
  const std::vector<int> seg = {0, 1, std::numeric_limits<int>::max(), -5};
  const Mask m = segment_mask(seg, 2, 2, {std::numeric_limits<int>::max(), 1, -5});
  CHECK(m.tensor().data()[0] == 1.f);
  CHECK(m.tensor().data()[1] == 0.f);
  CHECK(m.tensor().data()[2] == 1.f);
  CHECK(m.tensor().data()[3] == 1.f);
  CHECK_THROWS_AS(segment_mask(seg, -2, -2, {}), std::invalid_argument);
  // A mask picture that would resize beyond the pixel limit, named.
  ImageU8 sliver(1, 100000);
  CHECK_THROWS_AS(mask_from_image(sliver, 2048, 224, false, "sliver.png"), InputError);
}
