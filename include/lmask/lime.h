// lime.h — LIME for images over a segmentation: Ribeiro, Singh, Guestrin,
// "'Why Should I Trust You?': Explaining the Predictions of Any Classifier",
// KDD 2016, with the choices of its reference code (lime_image / lime_base):
// perturbation rows of 0/1 per segment with row 0 the full image, an
// exponential kernel on cosine distance, and a weighted ridge regression whose
// coefficients are the explanation.
// Not here: the model or the masking method (the caller's `target` runs the
// masked forwards), the CLI and the studies (src/cli, src/studies).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "lmask/image.h"
#include "lmask/mask.h"
#include "lmask/segmentation.h"

namespace lmask {

// -> z [samples, segments] row-major, 1 = segment kept. Row 0 is all ones (the
// unperturbed image, as LIME does); every other entry is 1 with probability
// keep_prob. The bits come from mt19937_64, whose output the standard fixes,
// so a seed gives the same matrix on every platform.
std::vector<std::uint8_t> perturbation_matrix(int samples, int segments, double keep_prob,
                                              std::uint64_t seed);

// z [samples, segments] -> weights [samples]: sqrt(exp(-d²/width²)) with d the
// cosine distance of each row to the all-ones row (an all-zero row: d = 1).
std::vector<double> kernel_weights(const std::vector<std::uint8_t>& z, int samples, int segments,
                                   double width = 0.25);

struct RidgeFit {
  std::vector<double> coefficients;  // [features]
  double intercept = 0.0;
};

// x [samples, features] row-major, y [samples], weights [samples] (>= 0) ->
// argmin Σ w_i (y_i - b - x_i·β)² + alpha |β|², the intercept b unpenalised
// (sklearn's Ridge with sample_weight). Throws std::runtime_error when the
// normal equations are not positive definite (alpha = 0 and collinear x).
RidgeFit weighted_ridge(const std::vector<double>& x, int samples, int features,
                        const std::vector<double>& y, const std::vector<double>& weights,
                        double alpha = 1.0);

struct LimeExplanation {
  std::vector<double> coefficients;  // [segments]
  double intercept = 0.0;
  std::vector<int> ranking;          // segment ids by coefficient, highest first, ties by lower id
};

// masks (each [1,1,H,W]) -> one target score per mask, e.g. the softmax of the
// predicted class after a batched masked forward.
using MaskTarget = std::function<std::vector<float>(const std::vector<Mask>& masks)>;

// LIME with z [samples, seg.count] (from perturbation_matrix): row i becomes
// segment_mask(seg, removed = segments where z is 0); `target` is called on
// consecutive batches of at most batch_size masks, in row order.
LimeExplanation explain_with(const MaskTarget& target, const Segmentation& seg,
                             const std::vector<std::uint8_t>& z, int samples,
                             double kernel_width = 0.25, double alpha = 1.0, int batch_size = 32);

// -> [1,1,H,W]: the first k segments of `ranking` removed, the rest visible
// (the top-k ablation). k beyond the ranking's length removes all it names.
Mask top_k_mask(const Segmentation& seg, const std::vector<int>& ranking, int k);
// -> [1,1,H,W]: 1 on the union of the first k segments of `ranking`, 0 elsewhere
// (to compare with an object mask).
Mask top_k_union(const Segmentation& seg, const std::vector<int>& ranking, int k);
// |a ∩ b| / |a ∪ b| over the positions holding 1; two empty masks give 1.
double jaccard(const Mask& a, const Mask& b);

// img01 [1,3,H,W] in [0,1] -> a picture of it tinted per segment: red for a
// positive coefficient, blue for a negative one, opacity proportional to
// |coef| / max|coef|; segment boundaries drawn as thin dark lines.
ImageU8 heatmap_overlay(const Tensor& img01, const Segmentation& seg,
                        const std::vector<double>& coefficients);

}  // namespace lmask
