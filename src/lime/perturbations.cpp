// perturbations.cpp — LIME's neighbourhood of an image: which segments each
// sample keeps, and how much each sample counts (the proximity kernel).
#include <cmath>
#include <random>
#include <stdexcept>

#include "lmask/lime.h"

namespace lmask {

namespace {

// The top 53 bits of a draw as a double in [0,1), exactly. Written out
// because std::uniform_real_distribution's result differs between standard
// libraries, and a seed must mean the same matrix everywhere.
double unit_interval(std::uint64_t bits) { return double(bits >> 11) * 0x1.0p-53; }

}  // namespace

std::vector<std::uint8_t> perturbation_matrix(int samples, int segments, double keep_prob,
                                              std::uint64_t seed) {
  if (samples < 1 || segments < 1) throw std::invalid_argument("perturbation_matrix: empty matrix");
  if (!(keep_prob >= 0.0 && keep_prob <= 1.0))
    throw std::invalid_argument("perturbation_matrix: keep_prob must be in [0,1]");
  std::vector<std::uint8_t> z(static_cast<std::size_t>(samples) * segments, 1);
  std::mt19937_64 rng(seed);
  // Row 0 stays all ones: LIME always includes the unperturbed image.
  for (std::size_t i = segments; i < z.size(); ++i) z[i] = unit_interval(rng()) < keep_prob ? 1 : 0;
  return z;
}

std::vector<double> kernel_weights(const std::vector<std::uint8_t>& z, int samples, int segments,
                                   double width) {
  if (z.size() != static_cast<std::size_t>(samples) * segments)
    throw std::invalid_argument("kernel_weights: matrix size is not samples x segments");
  if (!(width > 0)) throw std::invalid_argument("kernel_weights: width must be positive");
  std::vector<double> weights(samples);
  for (int r = 0; r < samples; ++r) {
    int kept = 0;
    for (int s = 0; s < segments; ++s) kept += z[std::size_t(r) * segments + s] != 0;
    // For a 0/1 row with k ones against the all-ones row of length n:
    // cos = k / (sqrt(k) sqrt(n)) = sqrt(k/n). An all-zero row has no
    // direction; sklearn's cosine distance (which LIME calls) gives it 1.
    const double d = kept == 0 ? 1.0 : 1.0 - std::sqrt(double(kept) / segments);
    // lime_image's kernel, square root included: the weights multiply squared
    // residuals, so this is a Gaussian of width `width` on the residuals.
    weights[r] = std::sqrt(std::exp(-d * d / (width * width)));
  }
  return weights;
}

}  // namespace lmask
