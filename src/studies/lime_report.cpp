// lime_report.cpp — S3's table (one row per method and k, counts and rates)
// and its picture (rows: the first images; columns: the image, then each
// method's LIME heat map of it).
#include <algorithm>

#include <fmt/core.h>

#include "lmask/lime.h"
#include "lmask/plot.h"
#include "lmask/study.h"
#include "study_common.h"

namespace lmask {

std::string lime_csv(const LimeResult& r) {
  using study::rate;
  std::string csv =
      "method,k,images,correct,top1,unchanged,unchanged_rate,prob_sum,mean_prob,object_images,jaccard_sum,"
      "mean_jaccard\n";
  for (const LimeRow& row : r.rows) {
    // No object masks: no overlap to speak of, so the mean is left empty, not 0.
    const std::string mean_jaccard = row.object_images ? fmt::format("{:.6f}", rate(row.jaccard_sum, row.object_images)) : "";
    csv += fmt::format("{},{},{},{},{:.6f},{},{:.6f},{:.9g},{:.6f},{},{:.9g},{}\n", study::csv_field(row.method),
                       row.k, row.images, row.correct, rate(row.correct, row.images), row.unchanged,
                       rate(row.unchanged, row.images), row.prob_sum.value(), rate(row.prob_sum, row.images),
                       row.object_images, row.jaccard_sum.value(), mean_jaccard);
  }
  return csv;
}

namespace {

// Nearest-neighbour enlargement by an integer factor, so that small inputs
// (28 or 64 px) give heat maps with one-pixel outlines a reader can see.
Tensor enlarge(const Tensor& img01, int f) {
  Tensor out({1, img01.c(), img01.h() * f, img01.w() * f});
  for (int c = 0; c < out.c(); ++c)
    for (int y = 0; y < out.h(); ++y)
      for (int x = 0; x < out.w(); ++x) out.at(0, c, y, x) = img01.at(0, c, y / f, x / f);
  return out;
}

Segmentation enlarge(const Segmentation& seg, int f) {
  Segmentation out{seg.h * f, seg.w * f, seg.count, std::vector<int>(std::size_t(seg.h) * seg.w * f * f)};
  for (int y = 0; y < out.h; ++y)
    for (int x = 0; x < out.w; ++x) out.labels[std::size_t(y) * out.w + x] = seg.labels[(y / f) * seg.w + x / f];
  return out;
}

void blit(Canvas& canvas, const ImageU8& img, int x0, int y0) {
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) {
      const std::uint8_t* p = img.pixel(x, y);
      canvas.set(x0 + x, y0 + y, {p[0], p[1], p[2]});
    }
}

}  // namespace

ImageU8 lime_picture(const LimeResult& r, const std::string& dataset) {
  constexpr int kMargin = 16, kGap = 10, kTitle = 40, kHeader = 16, kCaption = 16, kFooter = 36;
  constexpr Rgb kInk{20, 20, 20}, kGrey{90, 90, 90};
  const int rows = static_cast<int>(r.examples.size());
  const int side = rows ? r.examples[0].image01.h() : 64;
  const int f = std::max(1, (128 + side - 1) / side);  // cells of at least 128 px
  const int cell = side * f, cols = 1 + static_cast<int>(r.methods.size());
  const int width = std::max(640, 2 * kMargin + cols * cell + (cols - 1) * kGap);
  const int height = kTitle + kHeader + std::max(1, rows) * (cell + kCaption + kGap) + kFooter;
  Canvas canvas(width, height);

  canvas.text(kMargin, 10, "S3 LIME heat maps, " + study::chart_subject(dataset, r.common.images), kInk, 2);
  const std::string how = r.segmentation == "grid" ? fmt::format("{} px grid", r.common.patch) : std::string("SLIC");
  canvas.text(kMargin, kTitle - 8, fmt::format("{}, {} perturbations per image; first {} images", how, r.samples, rows),
              kGrey);
  for (int col = 0; col < cols; ++col)
    canvas.text(kMargin + col * (cell + kGap), kTitle + 4, col == 0 ? "image" : r.methods[col - 1], kInk);
  for (int row = 0; row < rows; ++row) {
    const LimeExample& e = r.examples[row];
    const int y = kTitle + kHeader + row * (cell + kCaption + kGap);
    const Tensor big = enlarge(e.image01, f);
    const Segmentation big_seg = enlarge(e.segments, f);
    blit(canvas, tensor01_to_image(big, 0), kMargin, y);
    canvas.text(kMargin, y + cell + 4, fmt::format("label {}, top-1 {}", e.label, e.predicted), kGrey);
    for (std::size_t m = 0; m < e.coefficients.size(); ++m)
      blit(canvas, heatmap_overlay(big, big_seg, e.coefficients[m]), kMargin + int(m + 1) * (cell + kGap), y);
  }
  if (rows == 0) canvas.text(kMargin, kTitle + kHeader, "no images", kInk);
  canvas.text(kMargin, height - kFooter + 8,
              "red: the segment raises the probability of the clean top-1 class; blue: lowers it", kGrey);
  canvas.text(kMargin, height - kFooter + 20, "opacity: |coefficient| / the largest |coefficient| of that heat map",
              kGrey);
  return canvas.image();
}

}  // namespace lmask
