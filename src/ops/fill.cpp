// fill.cpp — layer masking's neighbour-average fill before each conv.
//
// Two implementations of one rule: fill_reference is the spec's formula on
// whole images (the oracle), fill_frontier touches only the positions each
// step changes. Known values never change; a position becomes known in the
// step after one of its 3x3 neighbours is known, so step j fills exactly the
// positions at Chebyshev distance j from the visible region.
#include <algorithm>
#include <vector>

#include "lmask/kernels.h"
#include "lmask/masked_ops.h"

namespace lmask {

namespace {

// count [H,W] = how many of each position's 3x3 neighbours are known (zero
// padding): a horizontal then a vertical 3-sum, plain byte loops the
// compiler vectorises. `row` is scratch of the same size.
void count_known_neighbours(unsigned char* count, unsigned char* row, const unsigned char* known, int h,
                            int w) {
  for (int y = 0; y < h; ++y) {
    const unsigned char* k = known + y * w;
    unsigned char* r = row + y * w;
    for (int x = 0; x < w; ++x)
      r[x] = static_cast<unsigned char>((x > 0 ? k[x - 1] : 0) + k[x] + (x + 1 < w ? k[x + 1] : 0));
  }
  for (int y = 0; y < h; ++y) {
    const unsigned char* above = y > 0 ? row + (y - 1) * w : nullptr;
    const unsigned char* below = y + 1 < h ? row + (y + 1) * w : nullptr;
    const unsigned char* mid = row + y * w;
    unsigned char* c = count + y * w;
    for (int x = 0; x < w; ++x)
      c[x] = static_cast<unsigned char>(mid[x] + (above ? above[x] : 0) + (below ? below[x] : 0));
  }
}

}  // namespace

void kernels::fill_image(float* x, const float* m, int channels, int h, int w, int steps, float* scratch) {
  const std::size_t plane = static_cast<std::size_t>(h) * w;
  float* r = scratch;
  float* den = scratch + plane;
  float* num = scratch + 2 * plane;
  std::copy(m, m + plane, r);
  for (int step = 0; step < steps; ++step) {
    box3(den, r, h, w);
    for (int c = 0; c < channels; ++c) {
      float* v = x + c * plane;
      box3(num, v, h, w);
      for (std::size_t i = 0; i < plane; ++i) v[i] += (1.f - r[i]) * rules::fill_value(num[i], den[i]);
    }
    for (std::size_t i = 0; i < plane; ++i) r[i] = std::min(r[i] + den[i], 1.f);
  }
}

void fill_reference(Tensor& x, const Mask& m, int steps) {
  std::vector<float> scratch(3 * x.shape().plane_size());
  for (int n = 0; n < x.n(); ++n)
    kernels::fill_image(x.image(n), m.image(n), x.c(), x.h(), x.w(), steps, scratch.data());
}

void fill_frontier(Tensor& x, const Mask& m, int steps) {
  const int h = x.h(), w = x.w(), channels = x.c();
  const std::size_t plane = x.shape().plane_size();
  std::vector<unsigned char> known(plane), count(plane), row(plane);
  std::vector<int> frontier;
  std::vector<float> den, values;
  for (int n = 0; n < x.n(); ++n) {
    for (std::size_t i = 0; i < plane; ++i) known[i] = m.image(n)[i] != 0.f;
    for (int step = 0; step < steps; ++step) {
      // The still-unknown positions with at least one known neighbour.
      frontier.clear();
      den.clear();
      count_known_neighbours(count.data(), row.data(), known.data(), h, w);
      for (std::size_t i = 0; i < plane; ++i)
        if (!known[i] && count[i]) frontier.push_back(static_cast<int>(i)), den.push_back(float(count[i]));
      if (frontier.empty()) break;
      // Every frontier value reads the state before this step: compute all,
      // then write. Unknown neighbours hold 0, so the full 3x3 sum is the sum
      // over known ones, as in the reference.
      const std::size_t f = frontier.size();
      values.resize(f * channels);
#pragma omp parallel for schedule(static)
      for (int c = 0; c < channels; ++c) {
        const float* v = x.image(n) + c * plane;
        for (std::size_t j = 0; j < f; ++j) {
          values[c * f + j] = rules::fill_value(rules::box3_at(v, frontier[j] / w, frontier[j] % w, h, w), den[j]);
        }
      }
      for (int c = 0; c < channels; ++c) {
        float* v = x.image(n) + c * plane;
        for (std::size_t j = 0; j < f; ++j) v[frontier[j]] = values[c * f + j];
      }
      for (int p : frontier) known[p] = 1;
    }
  }
}

}  // namespace lmask
