// explain.cpp — one LIME explanation: masks from the perturbation rows, the
// caller's scores for them in batches, kernel weights, ridge fit, ranking.
#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>

#include "lmask/lime.h"
#include "lmask/mask_builders.h"

namespace lmask {

LimeExplanation explain_with(const MaskTarget& target, const Segmentation& seg,
                             const std::vector<std::uint8_t>& z, int samples, double kernel_width,
                             double alpha, int batch_size) {
  // z [samples, segments] -> coefficients [segments]
  const int segments = seg.count;
  if (z.size() != std::size_t(samples) * segments)
    throw std::invalid_argument("explain_with: matrix is not samples x segments");
  if (batch_size < 1) throw std::invalid_argument("explain_with: batch_size must be positive");

  std::vector<double> scores;
  scores.reserve(samples);
  std::vector<int> removed;
  std::vector<Mask> batch;
  for (int first = 0; first < samples; first += batch_size) {
    const int n = std::min(batch_size, samples - first);
    batch.clear();
    for (int r = first; r < first + n; ++r) {
      removed.clear();
      for (int s = 0; s < segments; ++s)
        if (!z[std::size_t(r) * segments + s]) removed.push_back(s);
      batch.push_back(segment_mask(seg.labels, seg.h, seg.w, removed));
    }
    const std::vector<float> got = target(batch);
    if (got.size() != std::size_t(n))
      throw std::runtime_error("explain_with: target returned " + std::to_string(got.size()) +
                               " scores for " + std::to_string(n) + " masks");
    scores.insert(scores.end(), got.begin(), got.end());
  }

  const std::vector<double> x(z.begin(), z.end());  // the 0/1 rows are the regressors
  const RidgeFit fit = weighted_ridge(x, samples, segments, scores,
                                      kernel_weights(z, samples, segments, kernel_width), alpha);

  LimeExplanation e{fit.coefficients, fit.intercept, std::vector<int>(segments)};
  std::iota(e.ranking.begin(), e.ranking.end(), 0);
  // Stable: equal coefficients keep the lower id first.
  std::stable_sort(e.ranking.begin(), e.ranking.end(),
                   [&](int a, int b) { return e.coefficients[a] > e.coefficients[b]; });
  return e;
}

}  // namespace lmask
