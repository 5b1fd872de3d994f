// zoo_rows.h — the golden zoo's tolerance (../shared/golden/zoo/README.md):
// max|diff| <= 1e-3 * max(1, std of the expected row), per image, for
// logits [N,C,1,1]. Shared by test_golden_zoo.cpp (every backend) and
// test_golden_zoo_cuda.cpp.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "lmask/tensor.h"

namespace lmask::testing {

inline double row_std(const float* v, int n) {
  double mean = 0.0, sq = 0.0;
  for (int i = 0; i < n; ++i) mean += v[i];
  mean /= n;
  for (int i = 0; i < n; ++i) sq += (v[i] - mean) * (v[i] - mean);
  return std::sqrt(sq / n);
}

// |diff| / tolerance per image of `got` against `expected` [N,C,1,1].
struct Comparison {
  float worst = 0.f;  // the largest ratio; NaN stays
  int worst_image = -1;
};
inline Comparison compare_rows(const Tensor& got, const Tensor& expected) {
  REQUIRE(got.n() == expected.n());
  REQUIRE(got.numel() == expected.numel());
  Comparison c;
  const int per = static_cast<int>(expected.numel()) / expected.n();
  for (int i = 0; i < expected.n(); ++i) {
    const float tol = 1e-3f * static_cast<float>(std::max(1.0, row_std(expected.image(i), per)));
    float diff = 0.f;
    for (int j = 0; j < per; ++j) {
      const float d = std::fabs(got.image(i)[j] - expected.image(i)[j]);
      diff = std::isnan(d) || !(d <= diff) ? d : diff;
    }
    const float ratio = diff / tol;
    if (std::isnan(ratio) || ratio > c.worst) c.worst = ratio, c.worst_image = i;
    if (std::isnan(c.worst)) break;
  }
  return c;
}

// Checks every row within its tolerance; returns the worst ratio.
inline float check_rows(const Tensor& got, const Tensor& expected, const std::string& what) {
  const Comparison c = compare_rows(got, expected);
  INFO(what << ": worst |diff|/tolerance " << c.worst << " (image " << c.worst_image << ")");
  CHECK(c.worst <= 1.f);
  return c.worst;
}

}  // namespace lmask::testing
