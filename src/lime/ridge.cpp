// ridge.cpp — weighted ridge regression with an unpenalised intercept, solved
// through its normal equations by LAPACK's Cholesky (dposv, double precision).
// Not here: feature selection (LIME's "auto"/forward selection): S3 fits
// every segment.
#include <stdexcept>
#include <string>

#include "lmask/lime.h"

// LAPACK from libopenblas (which exports it; there is no LAPACK header in the
// OpenBLAS package). Fortran passes every argument by reference; the trailing
// length is gfortran's hidden length of the CHARACTER argument `uplo`.
extern "C" void dposv_(const char* uplo, const int* n, const int* nrhs, double* a, const int* lda,
                       double* b, const int* ldb, int* info, std::size_t uplo_len);

namespace lmask {

RidgeFit weighted_ridge(const std::vector<double>& x, int samples, int features,
                        const std::vector<double>& y, const std::vector<double>& weights,
                        double alpha) {
  // x [S,F] row-major, y [S], weights [S] -> β [F], b
  if (samples < 1 || features < 1) throw std::invalid_argument("weighted_ridge: empty problem");
  if (x.size() != std::size_t(samples) * features || y.size() != std::size_t(samples) ||
      weights.size() != std::size_t(samples))
    throw std::invalid_argument("weighted_ridge: sizes of x, y and weights disagree");
  if (!(alpha >= 0)) throw std::invalid_argument("weighted_ridge: alpha must be >= 0");
  double total = 0;
  for (double w : weights) {
    if (!(w >= 0)) throw std::invalid_argument("weighted_ridge: weights must be >= 0");
    total += w;
  }
  if (!(total > 0)) throw std::invalid_argument("weighted_ridge: all weights are zero");

  // Centring x and y on their weighted means takes the intercept out of the
  // problem (then b = ȳ − x̄·β), so only β is penalised, as in sklearn.
  const int f = features;
  std::vector<double> x_mean(f, 0.0);
  double y_mean = 0;
  for (int i = 0; i < samples; ++i) {
    for (int j = 0; j < f; ++j) x_mean[j] += weights[i] * x[std::size_t(i) * f + j];
    y_mean += weights[i] * y[i];
  }
  for (double& m : x_mean) m /= total;
  y_mean /= total;

  // a = Xcᵀ W Xc + αI [F,F] (symmetric, so row/column order does not matter),
  // rhs = Xcᵀ W yc [F].
  std::vector<double> a(std::size_t(f) * f, 0.0), rhs(f, 0.0), xc(f);
  for (int i = 0; i < samples; ++i) {
    for (int j = 0; j < f; ++j) xc[j] = x[std::size_t(i) * f + j] - x_mean[j];
    const double yc = y[i] - y_mean;
    for (int j = 0; j < f; ++j) {
      rhs[j] += weights[i] * xc[j] * yc;
      for (int k = 0; k < f; ++k) a[std::size_t(j) * f + k] += weights[i] * xc[j] * xc[k];
    }
  }
  for (int j = 0; j < f; ++j) a[std::size_t(j) * f + j] += alpha;

  const int nrhs = 1;
  int info = 0;
  // Called by one thread of an active parallel region, where OpenBLAS's
  // OpenMP build runs single-threaded: its threaded Cholesky rounds
  // differently with 1 and 2 threads (seen on AMD Zen 3), and the studies
  // promise the same LIME rankings with any number of threads (gemm_blas.cpp).
#pragma omp parallel
#pragma omp single
  dposv_("U", &f, &nrhs, a.data(), &f, rhs.data(), &f, &info, 1);
  if (info > 0)
    throw std::runtime_error("weighted_ridge: normal equations not positive definite (leading minor " +
                             std::to_string(info) + "); use alpha > 0");
  if (info < 0) throw std::logic_error("weighted_ridge: dposv argument " + std::to_string(-info) + " invalid");

  RidgeFit fit{rhs, y_mean};
  for (int j = 0; j < f; ++j) fit.intercept -= x_mean[j] * fit.coefficients[j];
  return fit;
}

}  // namespace lmask
