// lime.cpp — S3: LIME with each masking method. Per image: the clean top-1
// class, one segmentation and one perturbation matrix shared by every method
// (paired design); each method carries out all the perturbations, LIME ranks
// the segments, and every ranking is then judged with the same yardstick:
// layer masking with the k top-ranked segments removed (and, where the
// dataset has object masks, the overlap of those segments with the object).
//
// Images go one at a time, since each has its own segmentation; the batches
// are over perturbations (a different mask per copy of the image).
#include <algorithm>

#include "lmask/error.h"
#include "lmask/finite_logits.h"
#include "lmask/lime.h"
#include "lmask/lime_model.h"
#include "lmask/mask_builders.h"
#include "lmask/study.h"
#include "study_common.h"
#include "study_loop.h"
#include "study_result.h"

namespace lmask {

namespace study {

LimeResult empty_lime(const Model& model, const StudySettings& s) {
  const SegmentationKind kind = parse_segmentation_kind(s.segmentation);
  const Segmentation placeholder = grid_segments(1, 1, 1);
  make_methods(s.methods, &placeholder);  // names checked
  check_batch(s);
  if (s.samples < 2)
    throw InputError("--samples", "LIME needs at least 2 perturbations (the intact image and one more), not " +
                                      std::to_string(s.samples));
  LimeResult r;
  r.common = empty_patch_common(model, s);
  r.methods = s.methods;
  r.segmentation = segmentation_kind_name(kind);
  r.samples = s.samples;
  for (const auto& m : s.methods)
    for (int k : lime_ablation_ks()) r.rows.push_back({m, k, 0, 0, 0, {}, 0, {}});
  return r;
}

// The examples' LIME coefficients go into the state; their image and
// segmentation are cheap and deterministic, so they are rebuilt from the
// dataset (restore_example_pictures).
void write_state(StateWriter& out, const LimeResult& r) {
  out.common(r.common);
  for (const LimeRow& row : r.rows)
    out.count(row.images).count(row.correct).count(row.unchanged).sum(row.prob_sum).count(row.object_images)
        .sum(row.jaccard_sum);
  out.count(std::size_t(r.segments_min)).count(std::size_t(r.segments_max)).count(r.segments_sum);
  out.num(r.ablation_seconds);
  out.count(r.examples.size());
  for (const LimeExample& e : r.examples) {
    out.count(e.index).text(e.name).count(std::size_t(e.label)).count(std::size_t(e.predicted));
    out.count(e.coefficients.size());
    for (const auto& per_method : e.coefficients) {
      out.count(per_method.size());
      for (double v : per_method) out.num(v);
    }
  }
}

void add_state(StateReader& in, LimeResult& r) {
  const std::size_t before = r.common.images;
  in.add_common(r.common);
  const bool adds_images = r.common.images > before;
  for (LimeRow& row : r.rows) {
    row.images += in.count(), row.correct += in.count(), row.unchanged += in.count();
    row.prob_sum += in.sum();
    row.object_images += in.count();
    row.jaccard_sum += in.sum();
  }
  const int segments_min = static_cast<int>(std::min<std::size_t>(in.count(), 1 << 30));
  const int segments_max = static_cast<int>(std::min<std::size_t>(in.count(), 1 << 30));
  if (adds_images) {
    r.segments_min = before ? std::min(r.segments_min, segments_min) : segments_min;
    r.segments_max = std::max(r.segments_max, segments_max);
  }
  r.segments_sum += in.count();
  r.ablation_seconds += in.num();
  const std::size_t examples = in.count();
  for (std::size_t i = 0; i < examples; ++i) {
    LimeExample e;
    e.index = in.count();
    e.name = in.text();
    e.label = static_cast<int>(in.count());
    e.predicted = static_cast<int>(in.count());
    e.coefficients.resize(std::min<std::size_t>(in.count(), 1 << 16));
    for (auto& per_method : e.coefficients) {
      per_method.resize(std::min<std::size_t>(in.count(), 1 << 24));
      for (double& v : per_method) v = in.num();
    }
    if (r.examples.size() < std::size_t(kLimeExampleImages)) r.examples.push_back(std::move(e));
  }
}

void restore_example_pictures(LimeResult& r, const Dataset& data, const std::string& where) {
  const SegmentationKind kind = parse_segmentation_kind(r.segmentation);
  for (LimeExample& e : r.examples) {
    if (!e.image01.empty()) continue;
    if (e.index >= data.size()) throw InputError(where, "partial state names an image beyond the dataset");
    e.image01 = data.get(e.index).image01;
    e.segments = make_segmentation(kind, e.image01, r.common.patch);
    // The picture indexes the coefficients by segment: sizes must fit exactly.
    bool fits = e.coefficients.size() == r.methods.size();
    for (const auto& per_method : e.coefficients) fits = fits && per_method.size() == std::size_t(e.segments.count);
    if (!fits)
      throw InputError(where, "partial state: an example's coefficients do not fit its segments (damaged file?)");
  }
}

}  // namespace study

LimeResult run_lime(const Model& model, const Dataset& data, const StudySettings& s, StudyProgress* progress,
                    StudyCheckpoint* checkpoint) {
  using namespace study;
  LimeResult r = empty_lime(model, s);
  StudyCommon& c = r.common;
  const SegmentationKind kind = parse_segmentation_kind(s.segmentation);
  const auto yardstick = make_masking_method("layer");
  const std::vector<int> ks = lime_ablation_ks();
  const std::size_t nm = s.methods.size(), nk = ks.size();
  const std::size_t per_image = 1 + nm * (std::size_t(s.samples) + nk);
  Stopwatch watch;
  // One image at a time: each has its own segmentation.
  for_each_batch("lime", data, s, 1, per_image, r, progress, checkpoint, [&](const Batch& b, ProgressRef& bar) {
    const std::size_t index = b.indices[0];
    const Tensor& img = b.images01;

    watch.lap();
    const Tensor clean = clean_logits(model, img);
    c.timings.clean += watch.lap();
    const int top = argmax(clean.image(0), c.classes);
    c.clean_correct += top == b.labels[0];
    bar.advance(1);

    const Segmentation seg = make_segmentation(kind, img, c.patch);
    r.segments_min = c.images == 1 ? seg.count : std::min(r.segments_min, seg.count);
    r.segments_max = std::max(r.segments_max, seg.count);
    r.segments_sum += seg.count;
    // The paired design: this matrix is every method's neighbourhood of the image.
    const std::vector<std::uint8_t> z = perturbation_matrix(s.samples, seg.count, kLimeKeepProb, s.seed + index);
    const auto methods = make_methods(s.methods, &seg);

    std::vector<std::vector<int>> rankings(nm);
    const bool example = r.examples.size() < std::size_t(kLimeExampleImages);
    if (example) {
      LimeExample e;
      e.index = index, e.name = b.names[0], e.label = b.labels[0], e.predicted = top;
      e.image01 = img.clone(), e.segments = seg;
      r.examples.push_back(std::move(e));
    }
    for (std::size_t m = 0; m < nm; ++m) {
      const MaskTarget probability = class_probability_target(model, *methods[m], img, top);
      const MaskTarget counted = [&](const std::vector<Mask>& masks) {
        auto scores = probability(masks);
        bar.advance(masks.size());
        return scores;
      };
      watch.lap();
      const LimeExplanation e = explain_with(counted, seg, z, s.samples, kLimeKernelWidth, kLimeAlpha, s.batch);
      c.timings.methods[m].second += watch.lap();
      rankings[m] = e.ranking;
      if (example) r.examples.back().coefficients.push_back(e.coefficients);
    }

    // The yardstick: every (method, k) ablation of this image through layer
    // masking, in batches; row j of `ablations` is rows[m * nk + k].
    std::vector<Mask> ablations;
    for (std::size_t m = 0; m < nm; ++m)
      for (int k : ks) ablations.push_back(top_k_mask(seg, rankings[m], k));
    const bool has_object = !b.objects.empty() && b.objects.count_visible(0) > 0;
    watch.lap();
    for (std::size_t first = 0; first < ablations.size(); first += s.batch) {
      const int n = static_cast<int>(std::min<std::size_t>(s.batch, ablations.size() - first));
      const std::vector<Mask> chunk(ablations.begin() + first, ablations.begin() + first + n);
      const Tensor logits = yardstick->logits(model, repeat_image(img, n), stack_masks(chunk));
      require_finite_logits(logits, model.meta().path);
      for (int i = 0; i < n; ++i) {
        LimeRow& row = r.rows[first + i];
        const int got = argmax(logits.image(i), c.classes);
        row.images += 1;
        row.correct += got == b.labels[0];
        row.unchanged += got == top;
        row.prob_sum += softmax(logits, i)[top];
      }
      bar.advance(n);
    }
    r.ablation_seconds += watch.lap();
    if (has_object)
      for (std::size_t m = 0; m < nm; ++m)
        for (std::size_t k = 0; k < nk; ++k) {
          LimeRow& row = r.rows[m * nk + k];
          row.object_images += 1;
          row.jaccard_sum += jaccard(top_k_union(seg, rankings[m], ks[k]), b.objects);
        }
  });
  restore_example_pictures(r, data, checkpoint ? checkpoint->name() : data.description());
  return r;
}

}  // namespace lmask
