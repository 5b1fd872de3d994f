// segment_mean.cpp — the "segment-mean" masking method (LIME's hide_color=None):
// a removed pixel shows the mean colour of its whole segment, then the plain
// network runs. It is an input method like grey or blur, except that its fill
// depends on a segmentation, so it is built with one rather than by name.
// Not here: the other input methods (masking_methods.cpp), segmentations (src/lime).
#include <algorithm>
#include <stdexcept>
#include <vector>

#include "lmask/image.h"
#include "lmask/masking.h"

namespace lmask {

Tensor segment_mean_image(const Tensor& img01, const Segmentation& seg) {
  // img01 [N,C,H,W], seg.labels [H*W] -> [N,C,H,W]
  if (img01.h() != seg.h || img01.w() != seg.w)
    throw std::invalid_argument("segment_mean_image: image " + img01.shape().str() + " does not match the " +
                                std::to_string(seg.h) + "x" + std::to_string(seg.w) + " segmentation");
  const std::size_t plane = img01.shape().plane_size();
  Tensor out(img01.shape());
  std::vector<double> sum(seg.count);
  std::vector<std::size_t> pixels(seg.count, 0);
  for (int id : seg.labels) ++pixels[id];
  for (int n = 0; n < img01.n(); ++n)
    for (int c = 0; c < img01.c(); ++c) {
      const float* in = img01.image(n) + c * plane;
      float* o = out.image(n) + c * plane;
      std::fill(sum.begin(), sum.end(), 0.0);
      for (std::size_t i = 0; i < plane; ++i) sum[seg.labels[i]] += in[i];
      for (std::size_t i = 0; i < plane; ++i) o[i] = float(sum[seg.labels[i]] / double(pixels[seg.labels[i]]));
    }
  return out;
}

namespace {

class SegmentMean final : public MaskingMethod {
 public:
  explicit SegmentMean(Segmentation seg) : seg_(std::move(seg)) {}

  std::string name() const override { return "segment-mean"; }
  Tensor features(const Model& model, const Tensor& img01, const Mask& m) const override {
    Tensor x = shown(model, img01, m);
    normalize(x, model.meta().mean, model.meta().std);
    return model.features(x);
  }
  Tensor shown(const Model&, const Tensor& img01, const Mask& m) const override {
    // The means come from the whole segment of the intact image, as LIME
    // computes them, not from its visible part: under a mask that removes
    // whole segments (LIME's) the two are the same thing.
    return composite(img01, m, segment_mean_image(img01, seg_));
  }

 private:
  Segmentation seg_;
};

}  // namespace

std::unique_ptr<MaskingMethod> make_segment_mean_method(Segmentation segments) {
  if (segments.count < 1 || segments.labels.size() != std::size_t(segments.h) * segments.w)
    throw std::invalid_argument("make_segment_mean_method: empty or inconsistent segmentation");
  return std::make_unique<SegmentMean>(std::move(segments));
}

}  // namespace lmask
