// model_target.cpp — see lime_model.h: segmentation kinds, and the class
// probability LIME explains, computed by a masking method in batches.
#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>

#include "lmask/error.h"
#include "lmask/finite_logits.h"
#include "lmask/lime_model.h"
#include "lmask/mask_builders.h"

namespace lmask {

SegmentationKind parse_segmentation_kind(const std::string& name, const std::string& option) {
  if (name == "grid") return SegmentationKind::grid;
  if (name == "slic") return SegmentationKind::slic;
  throw InputError(option, "unknown segmentation '" + name + "' (known: grid, slic)");
}

std::string segmentation_kind_name(SegmentationKind kind) { return kind == SegmentationKind::grid ? "grid" : "slic"; }

Segmentation make_segmentation(SegmentationKind kind, const Tensor& img01, int patch) {
  if (kind == SegmentationKind::grid) return grid_segments(img01.h(), img01.w(), patch);
  return slic_segments(img01, patch_count(img01.h(), img01.w(), patch), kSlicCompactness);
}

std::vector<double> softmax(const Tensor& logits, int i) {
  const float* z = logits.image(i);
  const int classes = logits.c();
  const double top = *std::max_element(z, z + classes);
  std::vector<double> p(classes);
  double sum = 0;
  for (int c = 0; c < classes; ++c) sum += p[c] = std::exp(double(z[c]) - top);
  for (double& v : p) v /= sum;
  return p;
}

MaskTarget class_probability_target(const Model& model, const MaskingMethod& method, const Tensor& img01, int cls) {
  if (img01.n() != 1) throw std::invalid_argument("class_probability_target: expected one image, got " +
                                                  img01.shape().str());
  if (cls < 0 || cls >= model.num_classes())
    throw std::invalid_argument("class_probability_target: class out of range");
  // The image copied once per mask of the largest batch seen; smaller
  // batches take a view of its first images.
  auto copies = std::make_shared<Tensor>();
  return [&model, &method, &img01, cls, copies](const std::vector<Mask>& masks) {
    const int n = static_cast<int>(masks.size());
    if (copies->n() < n) *copies = repeat_image(img01, n);
    const Tensor logits = method.logits(model, copies->batch(0, n), stack_masks(masks));
    require_finite_logits(logits, model.meta().path);
    std::vector<float> scores(n);
    for (int i = 0; i < n; ++i) scores[i] = float(softmax(logits, i)[cls]);
    return scores;
  };
}

}  // namespace lmask
