// test_lime.cpp — the LIME core (perturbations, kernel, weighted ridge,
// explanation, top-k masks, Jaccard, heat map) and the segmentations it
// explains with (patch grids, SLIC), against definitions written out here.
// Fixed seeds; each case prints its parameters.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <set>
#include <stdexcept>
#include <vector>

#include "lmask/lime.h"
#include "lmask/mask_builders.h"
#include "lmask/segmentation.h"

using namespace lmask;

namespace {

// x [samples, features] of standard normals, y = b + x·β exactly.
struct LinearData {
  std::vector<double> x, y, weights;
};
LinearData linear_data(int samples, const std::vector<double>& beta, double b, std::uint32_t seed) {
  const int f = int(beta.size());
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> positive(0.1, 2.0);
  LinearData d;
  for (int i = 0; i < samples; ++i) {
    double yi = b;
    for (int j = 0; j < f; ++j) {
      d.x.push_back(normal(rng));
      yi += d.x.back() * beta[j];
    }
    d.y.push_back(yi);
    d.weights.push_back(positive(rng));
  }
  return d;
}

// A [1,3,h,w] image: columns x < split in colour `left`, the rest in `right`.
Tensor two_colour_image(int h, int w, int split, const float left[3], const float right[3]) {
  Tensor t({1, 3, h, w});
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) t.at(0, c, y, x) = x < split ? left[c] : right[c];
  return t;
}

// Ids are 0..count-1, each used, and first appear in increasing order in raster order.
void check_consecutive_raster_ids(const Segmentation& seg) {
  REQUIRE(seg.labels.size() == std::size_t(seg.h) * seg.w);
  int next = 0;
  for (int id : seg.labels) {
    REQUIRE(id >= 0);
    REQUIRE(id <= next);
    if (id == next) ++next;
  }
  CHECK(next == seg.count);
}

// Every segment is one 4-connected piece.
void check_connected(const Segmentation& seg) {
  std::vector<char> seen(seg.labels.size(), 0);
  std::vector<char> id_done(seg.count, 0);
  for (std::size_t start = 0; start < seg.labels.size(); ++start) {
    if (seen[start]) continue;
    const int id = seg.labels[start];
    CHECK_MESSAGE(!id_done[id], "segment " << id << " has more than one piece");
    id_done[id] = 1;
    std::vector<int> stack{int(start)};
    seen[start] = 1;
    while (!stack.empty()) {
      const int i = stack.back(), y = i / seg.w, x = i % seg.w;
      stack.pop_back();
      for (auto [dx, dy] : {std::pair{1, 0}, {-1, 0}, {0, 1}, {0, -1}}) {
        const int xx = x + dx, yy = y + dy, j = yy * seg.w + xx;
        if (xx < 0 || yy < 0 || xx >= seg.w || yy >= seg.h || seen[j] || seg.labels[j] != id) continue;
        seen[j] = 1;
        stack.push_back(j);
      }
    }
  }
}

}  // namespace

TEST_CASE("lime: weighted ridge recovers an exact linear model") {
  // With a vanishing penalty and positive weights, a noiseless linear model
  // is fitted exactly, intercept included, whatever the weights.
  for (int f : {1, 3, 7}) {
    std::vector<double> beta;
    for (int j = 0; j < f; ++j) beta.push_back(0.5 * j - 1.3 + 0.1 * f);
    const double b = 2.25;
    const int samples = 40;
    INFO("features=" << f << " samples=" << samples);
    const LinearData d = linear_data(samples, beta, b, 17u + f);
    const RidgeFit fit = weighted_ridge(d.x, samples, f, d.y, d.weights, 1e-9);
    REQUIRE(fit.coefficients.size() == std::size_t(f));
    for (int j = 0; j < f; ++j) CHECK(std::abs(fit.coefficients[j] - beta[j]) < 1e-6);
    CHECK(std::abs(fit.intercept - b) < 1e-6);
  }
}

TEST_CASE("lime: weighted ridge with alpha 1 matches the closed form") {
  // Three features, solved here independently by Cramer's rule on the
  // centred weighted normal equations (XcᵀWXc + I) β = XcᵀW yc.
  const int samples = 12, f = 3;
  LinearData d = linear_data(samples, {1.0, -2.0, 0.5}, 0.7, 5u);
  for (int i = 0; i < samples; ++i) d.y[i] += 0.3 * std::sin(3.0 * i);  // not exactly linear
  double sw = 0, ym = 0, xm[3] = {0, 0, 0};
  for (int i = 0; i < samples; ++i) {
    sw += d.weights[i], ym += d.weights[i] * d.y[i];
    for (int j = 0; j < f; ++j) xm[j] += d.weights[i] * d.x[i * f + j];
  }
  ym /= sw;
  for (double& m : xm) m /= sw;
  double a[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}, r[3] = {0, 0, 0};
  for (int i = 0; i < samples; ++i)
    for (int j = 0; j < f; ++j) {
      r[j] += d.weights[i] * (d.x[i * f + j] - xm[j]) * (d.y[i] - ym);
      for (int k = 0; k < f; ++k) a[j][k] += d.weights[i] * (d.x[i * f + j] - xm[j]) * (d.x[i * f + k] - xm[k]);
    }
  auto det = [](const double m[3][3]) {
    return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
           m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  };
  const double whole = det(a);
  double beta[3];
  for (int col = 0; col < 3; ++col) {
    double m[3][3];
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 3; ++k) m[j][k] = k == col ? r[j] : a[j][k];
    beta[col] = det(m) / whole;
  }
  const double b = ym - (xm[0] * beta[0] + xm[1] * beta[1] + xm[2] * beta[2]);

  const RidgeFit fit = weighted_ridge(d.x, samples, f, d.y, d.weights, 1.0);
  for (int j = 0; j < f; ++j) CHECK(std::abs(fit.coefficients[j] - beta[j]) < 1e-10);
  CHECK(std::abs(fit.intercept - b) < 1e-10);
  // The penalty shrinks: the fit differs from the unpenalised one.
  const RidgeFit plain = weighted_ridge(d.x, samples, f, d.y, d.weights, 1e-12);
  CHECK(std::abs(plain.coefficients[0] - fit.coefficients[0]) > 1e-4);
}

TEST_CASE("lime: weighted ridge refuses singular and malformed problems") {
  // A constant column centres to exactly zero: with alpha 0 the normal
  // equations are singular.
  const std::vector<double> x = {1, 0.5, 1, -1, 1, 2, 1, 0};  // [4,2], column 0 constant
  const std::vector<double> y = {1, 2, 3, 4}, w = {1, 1, 1, 1};
  CHECK_THROWS_AS(weighted_ridge(x, 4, 2, y, w, 0.0), std::runtime_error);
  CHECK_NOTHROW(weighted_ridge(x, 4, 2, y, w, 1.0));
  CHECK_THROWS_AS(weighted_ridge(x, 4, 3, y, w), std::invalid_argument);
  CHECK_THROWS_AS(weighted_ridge(x, 4, 2, y, {1, 1, -1, 1}), std::invalid_argument);
  CHECK_THROWS_AS(weighted_ridge(x, 4, 2, y, {0, 0, 0, 0}), std::invalid_argument);
}

TEST_CASE("lime: kernel weights for known rows") {
  // Rows of 4 segments; expected from the definitions: cosine distance to
  // the all-ones row, then sqrt(exp(-d²/width²)).
  const std::vector<std::uint8_t> z = {1, 1, 1, 1,   // d = 0
                                       1, 0, 1, 0,   // cos = 2/(sqrt2*2)
                                       0, 0, 0, 1,   // cos = 1/(1*2)
                                       0, 0, 0, 0};  // all removed: d = 1
  for (double width : {0.25, 1.0}) {
    INFO("width=" << width);
    const std::vector<double> w = kernel_weights(z, 4, 4, width);
    REQUIRE(w.size() == 4);
    auto expect = [&](double d) { return std::sqrt(std::exp(-d * d / (width * width))); };
    CHECK(w[0] == doctest::Approx(1.0));
    CHECK(w[1] == doctest::Approx(expect(1.0 - 2.0 / (std::sqrt(2.0) * 2.0))));
    CHECK(w[2] == doctest::Approx(expect(0.5)));
    CHECK(w[3] == doctest::Approx(expect(1.0)));
  }
  CHECK(kernel_weights(z, 4, 4)[3] == doctest::Approx(std::exp(-8.0)));  // width 0.25: sqrt(e^-16)
  CHECK_THROWS_AS(kernel_weights(z, 3, 4), std::invalid_argument);
}

TEST_CASE("lime: the perturbation matrix is seeded, starts with the full image, keeps about keep_prob") {
  const int samples = 512, segments = 49;
  for (double p : {0.5, 0.2}) {
    INFO("keep_prob=" << p);
    const auto a = perturbation_matrix(samples, segments, p, 42);
    REQUIRE(a.size() == std::size_t(samples) * segments);
    CHECK(a == perturbation_matrix(samples, segments, p, 42));
    CHECK(a != perturbation_matrix(samples, segments, p, 43));
    CHECK(std::all_of(a.begin(), a.begin() + segments, [](std::uint8_t v) { return v == 1; }));
    CHECK(std::all_of(a.begin(), a.end(), [](std::uint8_t v) { return v <= 1; }));
    const double kept = std::count(a.begin() + segments, a.end(), 1) / double(a.size() - segments);
    CHECK(std::abs(kept - p) < 0.01);  // 25k draws: 4+ standard deviations
  }
  const auto all = perturbation_matrix(8, 5, 1.0, 1), none = perturbation_matrix(8, 5, 0.0, 1);
  CHECK(std::count(all.begin(), all.end(), 1) == 40);
  CHECK(std::count(none.begin(), none.end(), 1) == 5);  // row 0 only
  CHECK_THROWS_AS(perturbation_matrix(8, 5, 1.5, 1), std::invalid_argument);
}

TEST_CASE("segmentation: grid segments are the patch_mask patches") {
  struct Case { int h, w, patch; };
  for (const Case c : {Case{16, 16, 4}, Case{13, 9, 4}, Case{7, 11, 3}, Case{5, 5, 8}}) {
    INFO("h=" << c.h << " w=" << c.w << " patch=" << c.patch);
    const Segmentation seg = grid_segments(c.h, c.w, c.patch);
    CHECK(seg.count == patch_count(c.h, c.w, c.patch));
    check_consecutive_raster_ids(seg);
    for (int id = 0; id < seg.count; ++id) {
      const Mask m = patch_mask(c.h, c.w, c.patch, {id});
      for (int i = 0; i < c.h * c.w; ++i) CHECK((seg.labels[i] == id) == (m.tensor().data()[i] == 0.f));
    }
  }
}

TEST_CASE("segmentation: SLIC splits a two-colour image along its boundary") {
  // 64 x 48, boundary at x = 27 (not on the seeding grid). No segment may
  // hold pixels from both sides; ids consecutive; segments connected.
  const int h = 48, w = 64, split = 27;
  const float red[3] = {0.85f, 0.15f, 0.1f}, blue[3] = {0.1f, 0.25f, 0.9f};
  const Tensor img = two_colour_image(h, w, split, red, blue);
  for (int k : {6, 12, 40})
    for (double m : {5.0, 10.0, 40.0}) {
      INFO("n_segments=" << k << " compactness=" << m);
      const Segmentation seg = slic_segments(img, k, m);
      CHECK(seg.h == h);
      CHECK(seg.w == w);
      CHECK(seg.count >= 2);
      check_consecutive_raster_ids(seg);
      check_connected(seg);
      std::vector<std::set<bool>> sides(seg.count);
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) sides[seg.labels[y * w + x]].insert(x < split);
      for (int id = 0; id < seg.count; ++id) CHECK_MESSAGE(sides[id].size() == 1, "segment " << id << " straddles");
      CHECK(seg.labels == slic_segments(img, k, m).labels);  // deterministic
    }
  CHECK_THROWS_AS(slic_segments(Tensor({1, 1, 8, 8}), 4, 10), std::invalid_argument);
}

TEST_CASE("segmentation: SLIC on a noisy image gives compact connected segments") {
  // Random colours: no structure to follow, so compactness decides; about
  // n_segments segments should come out, each one piece.
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  Tensor img({1, 3, 40, 56});
  for (std::size_t i = 0; i < img.numel(); ++i) img.data()[i] = u(rng);
  const Segmentation seg = slic_segments(img, 30, 20);
  check_consecutive_raster_ids(seg);
  check_connected(seg);
  CHECK(seg.count >= 15);
  CHECK(seg.count <= 60);
}

TEST_CASE("lime: explain_with ranks segments of a linear model by their weights") {
  // The "model": score = Σ_s weight_s * (visible fraction of segment s), on a
  // grid with cut-short edge patches. LIME's regressors are exactly these
  // fractions, so the fit recovers the weights (exactly as alpha -> 0) and,
  // with alpha 1, still ranks them in order.
  const int h = 14, w = 18, patch = 4;
  const Segmentation seg = grid_segments(h, w, patch);  // 4 x 5 = 20 segments
  std::vector<double> weight(seg.count);
  for (int s = 0; s < seg.count; ++s) weight[s] = double((s * 7) % seg.count) - 6.5;  // a permutation, shifted
  std::vector<int> size(seg.count, 0);
  for (int id : seg.labels) ++size[id];

  int calls = 0, scored = 0, batch = 32;
  const MaskTarget model = [&](const std::vector<Mask>& masks) {
    ++calls;
    CHECK(masks.size() <= std::size_t(batch));
    std::vector<float> out;
    for (const Mask& m : masks) {
      REQUIRE(m.tensor().shape() == Shape{1, 1, h, w});
      std::vector<double> visible(seg.count, 0.0);
      for (int i = 0; i < h * w; ++i) visible[seg.labels[i]] += m.tensor().data()[i];
      double score = 0.5;
      for (int s = 0; s < seg.count; ++s) score += weight[s] * visible[s] / size[s];
      out.push_back(float(score));
    }
    scored += int(masks.size());
    return out;
  };

  const int samples = 300;
  const auto z = perturbation_matrix(samples, seg.count, 0.5, 7);
  const LimeExplanation e = explain_with(model, seg, z, samples, 0.25, 1.0, batch);
  CHECK(calls == (samples + 31) / 32);
  CHECK(scored == samples);
  std::vector<int> want(seg.count);
  for (int s = 0; s < seg.count; ++s) want[s] = s;
  std::stable_sort(want.begin(), want.end(), [&](int a, int b) { return weight[a] > weight[b]; });
  CHECK(e.ranking == want);

  batch = 50;
  const LimeExplanation exact = explain_with(model, seg, z, samples, 0.25, 1e-9, batch);
  for (int s = 0; s < seg.count; ++s) CHECK(std::abs(exact.coefficients[s] - weight[s]) < 1e-4);  // float scores
  CHECK(std::abs(exact.intercept - 0.5) < 1e-4);

  // Equal coefficients rank by lower id: a model that ignores the image.
  const MaskTarget flat = [](const std::vector<Mask>& masks) { return std::vector<float>(masks.size(), 1.f); };
  const LimeExplanation tie = explain_with(flat, seg, z, samples);
  for (int s = 0; s < seg.count; ++s) CHECK(tie.ranking[s] == s);
  // A target that returns the wrong number of scores is caught.
  const MaskTarget short_by_one = [](const std::vector<Mask>& masks) {
    return std::vector<float>(masks.size() - 1, 0.f);
  };
  CHECK_THROWS_AS(explain_with(short_by_one, seg, z, samples), std::runtime_error);
}

TEST_CASE("lime: top-k masks and their union") {
  const Segmentation seg = grid_segments(8, 12, 4);  // 2 x 3 segments
  const std::vector<int> ranking = {4, 0, 5, 1, 3, 2};
  CHECK(top_k_mask(seg, ranking, 0).all_visible());
  CHECK(top_k_union(seg, ranking, 0).count_visible() == 0);
  for (int k = 1; k <= 6; ++k) {
    INFO("k=" << k);
    const Mask removed = top_k_mask(seg, ranking, k), shown = top_k_union(seg, ranking, k);
    const std::vector<int> top(ranking.begin(), ranking.begin() + k);
    CHECK(max_abs_diff(removed.tensor(), patch_mask(8, 12, 4, top).tensor()) == 0.f);
    CHECK(removed.count_visible() + shown.count_visible() == 96);
    CHECK(jaccard(removed, shown) == 0.0);  // complements never overlap
  }
  CHECK(top_k_mask(seg, ranking, 99).count_visible() == 0);  // more than there are: all removed
  CHECK_THROWS_AS(top_k_mask(seg, ranking, -1), std::invalid_argument);
}

TEST_CASE("lime: jaccard basics") {
  const Mask a = rectangle_mask(10, 10, 0, 0, 5, 10);  // visible x >= 5: 50 px
  const Mask b = rectangle_mask(10, 10, 0, 0, 8, 10);  // visible x >= 8: 20 px
  CHECK(jaccard(a, a) == 1.0);
  CHECK(jaccard(a, b) == doctest::Approx(20.0 / 50.0));
  CHECK(jaccard(b, a) == jaccard(a, b));
  CHECK(jaccard(a, Mask::removed(1, 10, 10)) == 0.0);
  CHECK(jaccard(Mask::removed(1, 10, 10), Mask::removed(1, 10, 10)) == 1.0);  // two empty sets
  const Mask left = rectangle_mask(10, 10, 5, 0, 10, 10);  // visible x < 5
  CHECK(jaccard(a, left) == 0.0);
  CHECK_THROWS(jaccard(a, Mask::visible(1, 10, 9)));
}

TEST_CASE("lime: the heat map tints by sign and strength and outlines segments") {
  const Segmentation seg = grid_segments(8, 16, 8);  // two 8x8 segments side by side
  const Tensor grey = Tensor::filled({1, 3, 8, 16}, 0.5f);
  const ImageU8 out = heatmap_overlay(grey, seg, {2.0, -1.0});
  REQUIRE(out.width == 16);
  REQUIRE(out.height == 8);
  const std::uint8_t* pos = out.pixel(2, 2);
  const std::uint8_t* neg = out.pixel(12, 2);
  CHECK(pos[0] > pos[2]);  // positive: red
  CHECK(neg[2] > neg[0]);  // negative: blue
  // The weaker segment is tinted less: closer to the grey 128.
  CHECK(std::abs(neg[2] - 128) < std::abs(pos[0] - 128));
  // The boundary between the segments (x = 7) is dark; nothing else is.
  for (int y = 0; y < 8; ++y) CHECK(out.pixel(7, y)[0] < 40);
  CHECK(out.pixel(6, 3)[1] > 40);
  // All-zero coefficients leave the image as it is, outlines aside.
  const ImageU8 plain = heatmap_overlay(grey, seg, {0.0, 0.0});
  CHECK(plain.pixel(3, 3)[0] == 128);
  CHECK_THROWS_AS(heatmap_overlay(grey, seg, {1.0}), std::invalid_argument);
}
