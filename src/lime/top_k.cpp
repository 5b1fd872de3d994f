// top_k.cpp — what the LIME studies do with a ranking: remove the top-k
// segments, or compare their union with an object mask.
#include <algorithm>
#include <stdexcept>

#include "lmask/lime.h"
#include "lmask/mask_builders.h"

namespace lmask {

namespace {

std::vector<int> first_k(const std::vector<int>& ranking, int k) {
  if (k < 0) throw std::invalid_argument("top-k: k must be >= 0");
  return {ranking.begin(), ranking.begin() + std::min<std::size_t>(k, ranking.size())};
}

}  // namespace

Mask top_k_mask(const Segmentation& seg, const std::vector<int>& ranking, int k) {
  return segment_mask(seg.labels, seg.h, seg.w, first_k(ranking, k));
}

Mask top_k_union(const Segmentation& seg, const std::vector<int>& ranking, int k) {
  // The complement of the ablation mask: 1 exactly where top_k_mask removes.
  Tensor t = top_k_mask(seg, ranking, k).tensor().clone();
  for (std::size_t i = 0; i < t.numel(); ++i) t.data()[i] = 1.f - t.data()[i];
  return Mask(t);
}

double jaccard(const Mask& a, const Mask& b) {
  check_shape(b.tensor(), a.tensor().shape(), "jaccard");
  std::size_t both = 0, either = 0;
  for (std::size_t i = 0; i < a.tensor().numel(); ++i) {
    const bool x = a.tensor().data()[i] != 0.f, y = b.tensor().data()[i] != 0.f;
    both += x && y, either += x || y;
  }
  // Two empty sets are the same set.
  return either == 0 ? 1.0 : double(both) / double(either);
}

}  // namespace lmask
