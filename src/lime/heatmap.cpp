// heatmap.cpp — a LIME explanation as a picture: the image tinted per segment
// by its coefficient, with the segment outlines drawn.
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "lmask/lime.h"

namespace lmask {

namespace {

// The strongest segment is tinted at this opacity, not fully, so the picture
// beneath stays readable.
constexpr double kMaxOpacity = 0.6;
constexpr std::uint8_t kPositive[3] = {220, 30, 30}, kNegative[3] = {30, 60, 220}, kLine[3] = {25, 25, 25};

}  // namespace

ImageU8 heatmap_overlay(const Tensor& img01, const Segmentation& seg,
                        const std::vector<double>& coefficients) {
  // img01 [1,3,H,W], seg [H*W], coefficients [seg.count] -> [H,W,3]
  if (img01.n() != 1 || img01.h() != seg.h || img01.w() != seg.w)
    throw std::invalid_argument("heatmap_overlay: image " + img01.shape().str() +
                                " does not match the segmentation");
  if (coefficients.size() != std::size_t(seg.count))
    throw std::invalid_argument("heatmap_overlay: one coefficient per segment expected");
  double largest = 0;
  for (double c : coefficients) largest = std::max(largest, std::abs(c));

  ImageU8 out = tensor01_to_image(img01, 0);
  const int h = seg.h, w = seg.w;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const int id = seg.labels[y * w + x];
      std::uint8_t* px = out.pixel(x, y);
      // A pixel whose right or lower neighbour is in another segment: one
      // line, one pixel wide, between every pair of segments.
      const bool edge = (x + 1 < w && seg.labels[y * w + x + 1] != id) ||
                        (y + 1 < h && seg.labels[(y + 1) * w + x] != id);
      if (edge) {
        std::copy(kLine, kLine + 3, px);
        continue;
      }
      if (largest == 0) continue;
      const double c = coefficients[id], opacity = kMaxOpacity * std::abs(c) / largest;
      const std::uint8_t* tint = c >= 0 ? kPositive : kNegative;
      for (int ch = 0; ch < 3; ++ch)
        px[ch] = std::uint8_t(std::lround((1 - opacity) * px[ch] + opacity * tint[ch]));
    }
  return out;
}

}  // namespace lmask
