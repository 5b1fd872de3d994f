// slic.cpp — SLIC superpixels, after R. Achanta, A. Shaji, K. Smith, A. Lucchi,
// P. Fua, S. Süsstrunk, "SLIC Superpixels Compared to State-of-the-Art
// Superpixel Methods", IEEE TPAMI 34(11):2274-2282, 2012 (Algorithm 1).
// Not here: SLICO's adaptive compactness, supervoxels, or any speed-up; the
// images LIME segments are small.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>
#include <stdexcept>

#include "lmask/segmentation.h"

namespace lmask {

namespace {

// A pixel, or a cluster centre, in the paper's 5-D space [l a b x y].
struct Point {
  double l = 0, a = 0, b = 0, x = 0, y = 0;
};

double colour_dist2(const Point& p, const Point& q) {
  return (p.l - q.l) * (p.l - q.l) + (p.a - q.a) * (p.a - q.a) + (p.b - q.b) * (p.b - q.b);
}

// sRGB in [0,1] -> CIELAB under D65. SLIC clusters in CIELAB because there
// Euclidean distance roughly follows perceived colour difference.
Point srgb_to_lab(double r, double g, double b) {
  auto linear = [](double c) { return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4); };
  r = linear(r), g = linear(g), b = linear(b);
  // XYZ relative to the D65 white point (0.95047, 1, 1.08883).
  const double x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047;
  const double y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b;
  const double z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883;
  const double e = 6.0 / 29.0;  // below e³ the cube root is replaced by a line
  auto f = [e](double t) { return t > e * e * e ? std::cbrt(t) : t / (3 * e * e) + 4.0 / 29.0; };
  return {116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z)), 0, 0};
}

// img01 [1,3,H,W] -> pixels [H*W] in [l a b x y].
std::vector<Point> lab_pixels(const Tensor& img01) {
  const int h = img01.h(), w = img01.w();
  std::vector<Point> px(static_cast<std::size_t>(h) * w);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      Point& p = px[y * w + x];
      p = srgb_to_lab(img01.at(0, 0, y, x), img01.at(0, 1, y, x), img01.at(0, 2, y, x));
      p.x = x, p.y = y;
    }
  return px;
}

// The paper's G(x,y) = ‖I(x+1,y) − I(x−1,y)‖² + ‖I(x,y+1) − I(x,y−1)‖² in Lab,
// neighbours clamped at the border.
double gradient(const std::vector<Point>& px, int h, int w, int x, int y) {
  auto at = [&](int xx, int yy) -> const Point& {
    return px[std::clamp(yy, 0, h - 1) * w + std::clamp(xx, 0, w - 1)];
  };
  return colour_dist2(at(x + 1, y), at(x - 1, y)) + colour_dist2(at(x, y + 1), at(x, y - 1));
}

// Centres on a rows x cols grid (rows*cols ≈ K, cells ≈ S x S), each moved to
// the lowest-gradient pixel of its 3x3 neighbourhood so that no centre starts
// on an edge or a noisy pixel. Ties keep the grid position.
std::vector<Point> seed_centres(const std::vector<Point>& px, int h, int w, int k) {
  const double s = std::sqrt(double(h) * w / k);
  const int rows = std::clamp(int(std::lround(h / s)), 1, h);
  const int cols = std::clamp(int(std::lround(w / s)), 1, w);
  std::vector<Point> centres;
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      const int y0 = int((r + 0.5) * h / rows), x0 = int((c + 0.5) * w / cols);
      int by = y0, bx = x0;
      double best = gradient(px, h, w, x0, y0);
      for (int y = std::max(y0 - 1, 0); y <= std::min(y0 + 1, h - 1); ++y)
        for (int x = std::max(x0 - 1, 0); x <= std::min(x0 + 1, w - 1); ++x) {
          const double g = gradient(px, h, w, x, y);
          if (g < best) best = g, by = y, bx = x;
        }
      centres.push_back(px[by * w + bx]);
    }
  return centres;
}

// The k-means iterations: assignment within each centre's 2S x 2S window,
// then centres move to their pixels' means. Stops early once no label
// changes. Pixels no window reaches keep the label -1.
std::vector<int> cluster(const std::vector<Point>& px, int h, int w, std::vector<Point>& centres,
                         double m, int max_iter) {
  const double s = std::sqrt(double(h) * w / centres.size());
  const double spatial = (m / s) * (m / s);  // D² = dc² + ds² (m/S)²; comparing D² skips the sqrt
  std::vector<int> label(px.size(), -1), previous;
  std::vector<double> best(px.size());
  for (int it = 0; it < max_iter; ++it) {
    previous = label;
    std::fill(label.begin(), label.end(), -1);
    std::fill(best.begin(), best.end(), std::numeric_limits<double>::infinity());
    for (std::size_t k = 0; k < centres.size(); ++k) {
      const Point& c = centres[k];
      const int y0 = std::max(int(std::floor(c.y - s)), 0), y1 = std::min(int(std::ceil(c.y + s)), h - 1);
      const int x0 = std::max(int(std::floor(c.x - s)), 0), x1 = std::min(int(std::ceil(c.x + s)), w - 1);
      for (int y = y0; y <= y1; ++y)
        for (int x = x0; x <= x1; ++x) {
          const std::size_t i = std::size_t(y) * w + x;
          const double ds2 = (x - c.x) * (x - c.x) + (y - c.y) * (y - c.y);
          const double d2 = colour_dist2(px[i], c) + ds2 * spatial;
          if (d2 < best[i]) best[i] = d2, label[i] = int(k);
        }
    }
    std::vector<Point> sum(centres.size());
    std::vector<int> count(centres.size(), 0);
    for (std::size_t i = 0; i < px.size(); ++i) {
      if (label[i] < 0) continue;
      Point& t = sum[label[i]];
      t.l += px[i].l, t.a += px[i].a, t.b += px[i].b, t.x += px[i].x, t.y += px[i].y;
      ++count[label[i]];
    }
    for (std::size_t k = 0; k < centres.size(); ++k)
      if (count[k] > 0) {  // an empty cluster keeps its centre
        const double n = count[k];
        centres[k] = {sum[k].l / n, sum[k].a / n, sum[k].b / n, sum[k].x / n, sum[k].y / n};
      }
    if (label == previous) break;
  }
  return label;
}

// The 4-connected components of equal labels: -> component id per pixel (in
// raster order of discovery), filling each component's size and Lab sum.
std::vector<int> components(const std::vector<int>& label, const std::vector<Point>& px, int h, int w,
                            std::vector<int>& size, std::vector<Point>& colour_sum) {
  std::vector<int> comp(label.size(), -1), stack;
  for (std::size_t start = 0; start < label.size(); ++start) {
    if (comp[start] >= 0) continue;
    const int id = int(size.size());
    size.push_back(0), colour_sum.push_back({});
    comp[start] = id, stack.assign(1, int(start));
    while (!stack.empty()) {
      const int i = stack.back();
      stack.pop_back();
      ++size[id];
      colour_sum[id].l += px[i].l, colour_sum[id].a += px[i].a, colour_sum[id].b += px[i].b;
      const int y = i / w, x = i % w;
      const int nb[4][2] = {{x - 1, y}, {x + 1, y}, {x, y - 1}, {x, y + 1}};
      for (const auto& q : nb) {
        if (q[0] < 0 || q[0] >= w || q[1] < 0 || q[1] >= h) continue;
        const int j = q[1] * w + q[0];
        if (comp[j] < 0 && label[j] == label[i]) comp[j] = id, stack.push_back(j);
      }
    }
  }
  return comp;
}

// k-means in [l a b x y] does not keep clusters connected, so, as the paper's
// post-processing step, every connected piece becomes its own segment and
// pieces smaller than min_size are merged into an adjacent one. The paper's
// code takes the neighbour met first; here it is the neighbour closest in
// mean colour, so that an orphan does not cross an edge it could avoid.
// Smallest pieces merge first. -> labels consecutive in raster order.
Segmentation enforce_connectivity(const std::vector<int>& label, const std::vector<Point>& px, int h,
                                  int w, int min_size) {
  std::vector<int> size;
  std::vector<Point> sum;
  const std::vector<int> comp = components(label, px, h, w, size, sum);
  const int n = int(size.size());

  std::vector<std::set<int>> adjacent(n);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const int c = comp[y * w + x];
      for (int j : {x + 1 < w ? y * w + x + 1 : -1, y + 1 < h ? (y + 1) * w + x : -1})
        if (j >= 0 && comp[j] != c) adjacent[c].insert(comp[j]), adjacent[comp[j]].insert(c);
    }

  std::vector<int> parent(n);
  std::iota(parent.begin(), parent.end(), 0);
  auto root = [&](int c) {
    while (parent[c] != c) c = parent[c] = parent[parent[c]];
    return c;
  };
  auto mean_dist2 = [&](int p, int q) {
    const Point a{sum[p].l / size[p], sum[p].a / size[p], sum[p].b / size[p]};
    const Point b{sum[q].l / size[q], sum[q].a / size[q], sum[q].b / size[q]};
    return colour_dist2(a, b);
  };
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int p, int q) { return size[p] < size[q]; });
  for (int c : order) {
    const int r = root(c);
    if (size[r] >= min_size) continue;
    int into = -1;
    double best = 0;
    for (int a : adjacent[r]) {
      const int ra = root(a);
      if (ra == r) continue;
      const double d = mean_dist2(r, ra);
      if (into < 0 || d < best || (d == best && ra < into)) into = ra, best = d;
    }
    if (into < 0) continue;  // the whole image is this one piece
    parent[r] = into;
    size[into] += size[r];
    sum[into].l += sum[r].l, sum[into].a += sum[r].a, sum[into].b += sum[r].b;
    adjacent[into].insert(adjacent[r].begin(), adjacent[r].end());
  }

  // Renumber by first appearance in raster order.
  Segmentation seg{h, w, 0, std::vector<int>(label.size())};
  std::vector<int> id(n, -1);
  for (std::size_t i = 0; i < label.size(); ++i) {
    const int r = root(comp[i]);
    if (id[r] < 0) id[r] = seg.count++;
    seg.labels[i] = id[r];
  }
  return seg;
}

}  // namespace

Segmentation slic_segments(const Tensor& img01, int n_segments, double compactness, int max_iter) {
  if (img01.n() != 1 || img01.c() != 3 || img01.h() <= 0 || img01.w() <= 0)
    throw std::invalid_argument("slic_segments: expected an image [1,3,H,W], got " + img01.shape().str());
  if (n_segments <= 0) throw std::invalid_argument("slic_segments: n_segments must be positive");
  if (!(compactness > 0)) throw std::invalid_argument("slic_segments: compactness must be positive");
  if (max_iter < 1) throw std::invalid_argument("slic_segments: max_iter must be at least 1");
  const int h = img01.h(), w = img01.w();
  const std::vector<Point> px = lab_pixels(img01);
  std::vector<Point> centres = seed_centres(px, h, w, std::min(n_segments, h * w));
  const std::vector<int> label = cluster(px, h, w, centres, compactness, max_iter);
  // The paper's code merges pieces under a quarter of the expected size S².
  const int min_size = std::max(1, int(double(h) * w / centres.size() / 4));
  return enforce_connectivity(label, px, h, w, min_size);
}

}  // namespace lmask
