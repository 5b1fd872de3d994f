// segment_ablation.cpp — see segment_ablation.h: one segment removed per
// copy of the image, in batches, each logit compared with the reference.
#include "lmask/segment_ablation.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "lmask/finite_logits.h"
#include "lmask/mask_builders.h"

namespace lmask {

std::vector<double> segment_ablation(const Model& model, const MaskingMethod& method, const Tensor& img01,
                                     const Segmentation& seg, int cls, int batch_size) {
  if (img01.n() != 1 || img01.h() != seg.h || img01.w() != seg.w)
    throw std::invalid_argument("segment_ablation: expected one image of the segmentation's size " +
                                std::to_string(seg.h) + "x" + std::to_string(seg.w) + ", got " + img01.shape().str());
  if (cls < 0 || cls >= model.num_classes()) throw std::invalid_argument("segment_ablation: class out of range");
  if (batch_size < 1) throw std::invalid_argument("segment_ablation: batch_size must be positive");

  const Tensor reference = method.logits(model, img01, Mask::visible(1, seg.h, seg.w));
  require_finite_logits(reference, model.meta().path);
  const double before = reference.image(0)[cls];
  std::vector<double> drops(seg.count);
  Tensor copies;  // the image repeated for the largest batch; smaller ones take a view of it
  for (int first = 0; first < seg.count; first += batch_size) {
    const int n = std::min(batch_size, seg.count - first);
    if (copies.n() < n) copies = repeat_image(img01, n);
    std::vector<Mask> masks;
    for (int s = first; s < first + n; ++s) masks.push_back(segment_mask(seg.labels, seg.h, seg.w, {s}));
    const Tensor logits = method.logits(model, copies.batch(0, n), stack_masks(masks));
    require_finite_logits(logits, model.meta().path);
    for (int i = 0; i < n; ++i) drops[first + i] = before - logits.image(i)[cls];
  }
  return drops;
}

}  // namespace lmask
