// test_gemm.cpp — both SGEMMs of gemm.h (the OpenBLAS one of the normal
// build, the portable one of the embedded build) against a plain triple
// loop, on odd sizes around their block and tile edges, every transpose,
// alpha/beta and padded row strides; and the OpenBLAS one's bits with 1 and
// 2 threads.
#include <doctest/doctest.h>

#include <omp.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "lmask/gemm.h"

using namespace lmask;

namespace {

// C = alpha * op(A) . op(B) + beta * C, in double, row-major.
void gemm_naive(bool ta, bool tb, int m, int n, int k, float alpha, const std::vector<float>& a, int lda,
                const std::vector<float>& b, int ldb, float beta, std::vector<float>& c, int ldc) {
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      double s = 0.0;
      for (int p = 0; p < k; ++p) s += double(ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
      const double old = beta == 0.f ? 0.0 : double(beta) * c[i * ldc + j];
      c[i * ldc + j] = static_cast<float>(alpha * s + old);
    }
}

std::vector<float> random_values(std::size_t count, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> v(count);
  for (float& x : v) x = dist(rng);
  return v;
}

using Sgemm = void (*)(Transpose, Transpose, int, int, int, float, const float*, int, const float*, int, float, float*,
                      int);

void check_against_triple_loop(Sgemm gemm) {
  const int sizes[][3] = {{1, 1, 1},   {2, 3, 5},     {7, 17, 33},  {6, 16, 256}, {13, 47, 257},
                          {49, 65, 300}, {97, 129, 31}, {64, 1, 576}, {1, 200, 147},
                          {300, 1030, 40}};  // 2 x 3 of sgemm's tiles, ragged edges
  std::uint32_t seed = 1;
  for (const auto& s : sizes)
    for (int ta = 0; ta < 2; ++ta)
      for (int tb = 0; tb < 2; ++tb)
        for (const float beta : {0.f, 1.f, -0.5f}) {
          const int m = s[0], n = s[1], k = s[2];
          const float alpha = ta ? -0.75f : 1.f;
          // Row strides 3 floats wider than the rows, so any stride mix-up shows.
          const int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 3, ldc = n + 3;
          const auto a = random_values(std::size_t(ta ? k : m) * lda, seed++);
          const auto b = random_values(std::size_t(tb ? n : k) * ldb, seed++);
          auto c = random_values(std::size_t(m) * ldc, seed++);
          // beta == 0 must ignore what C held, NaN included.
          if (beta == 0.f) c.assign(c.size(), std::numeric_limits<float>::quiet_NaN());
          auto want = c;
          gemm_naive(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, want, ldc);
          gemm(ta ? Transpose::yes : Transpose::no, tb ? Transpose::yes : Transpose::no, m, n, k, alpha, a.data(),
               lda, b.data(), ldb, beta, c.data(), ldc);
          CAPTURE(m);
          CAPTURE(n);
          CAPTURE(k);
          CAPTURE(ta);
          CAPTURE(tb);
          CAPTURE(beta);
          double worst = 0.0;
          for (int i = 0; i < m; ++i)
            for (int j = 0; j < n; ++j) {
              const double d = std::fabs(double(c[i * ldc + j]) - want[i * ldc + j]);
              worst = std::isnan(d) ? INFINITY : std::max(worst, d);
            }
          CHECK(worst <= 1e-5 * std::sqrt(double(k)) + 1e-6);
          // The padding between rows is never written.
          for (int i = 0; i < m; ++i)
            for (int j = n; j < ldc; ++j)
              if (beta == 0.f) CHECK(std::isnan(c[i * ldc + j]));
        }
}

}  // namespace

TEST_CASE("gemm: sgemm_portable matches a triple loop on odd sizes, transposes, alpha/beta and strides") {
  check_against_triple_loop(sgemm_portable);
}

TEST_CASE("gemm: sgemm (OpenBLAS) matches a triple loop on odd sizes, transposes, alpha/beta and strides") {
  check_against_triple_loop(sgemm);
}

// The studies' promise of the same bytes with 1 or 2 threads rests on this:
// OpenBLAS alone breaks it on some CPUs (gemm_blas.cpp). The shapes are
// ResNet convs at 64 px (the shipped model) and 224 px.
TEST_CASE("gemm: sgemm gives the same bits with 1 and 2 threads") {
  const int sizes[][3] = {{64, 1024, 147}, {64, 256, 576}, {256, 256, 64}, {128, 64, 1152}, {512, 49, 4608},
                          {64, 3136, 576}};
  const int threads = omp_get_max_threads();
  std::uint32_t seed = 100;
  for (const auto& s : sizes) {
    const int m = s[0], n = s[1], k = s[2];
    const auto a = random_values(std::size_t(m) * k, seed++);
    const auto b = random_values(std::size_t(k) * n, seed++);
    std::vector<float> one(std::size_t(m) * n), two(one.size());
    omp_set_num_threads(1);
    sgemm(Transpose::no, Transpose::no, m, n, k, 1.f, a.data(), k, b.data(), n, 0.f, one.data(), n);
    omp_set_num_threads(2);
    sgemm(Transpose::no, Transpose::no, m, n, k, 1.f, a.data(), k, b.data(), n, 0.f, two.data(), n);
    CAPTURE(m);
    CAPTURE(n);
    CAPTURE(k);
    CHECK(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0);
  }
  omp_set_num_threads(threads);
}

TEST_CASE("gemm: sgemm_portable with k = 0 or alpha = 0 only scales C by beta") {
  std::vector<float> c = {1.f, 2.f, 3.f, 4.f};
  const float a = 5.f, b = 7.f;
  sgemm_portable(Transpose::no, Transpose::no, 2, 2, 0, 1.f, &a, 1, &b, 2, 0.5f, c.data(), 2);
  CHECK(c == std::vector<float>{0.5f, 1.f, 1.5f, 2.f});
  sgemm_portable(Transpose::no, Transpose::no, 1, 1, 1, 0.f, &a, 1, &b, 1, 2.f, c.data(), 2);
  CHECK(c[0] == 1.f);
}
