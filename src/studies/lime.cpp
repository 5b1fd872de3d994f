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
#include "lmask/lime.h"
#include "lmask/lime_model.h"
#include "lmask/mask_builders.h"
#include "lmask/study.h"
#include "study_common.h"

namespace lmask {

namespace {

// img01 [1,3,H,W] -> [n,3,H,W], n copies.
Tensor repeat(const Tensor& img01, int n) {
  Tensor t({n, img01.c(), img01.h(), img01.w()});
  for (int i = 0; i < n; ++i) std::copy(img01.data(), img01.data() + img01.numel(), t.image(i));
  return t;
}

}  // namespace

LimeResult run_lime(const ResNet& net, const Dataset& data, const StudySettings& s, StudyProgress* progress) {
  using namespace study;
  const SegmentationKind kind = parse_segmentation_kind(s.segmentation);
  const Segmentation placeholder = grid_segments(1, 1, 1);
  make_methods(s.methods, &placeholder);  // names checked before any work
  check_batch(s);
  if (s.samples < 2)
    throw InputError("--samples", "LIME needs at least 2 perturbations (the intact image and one more), not " +
                                      std::to_string(s.samples));
  const auto yardstick = make_masking_method("layer");
  const std::vector<int> ks = lime_ablation_ks();

  LimeResult r;
  StudyCommon& c = r.common;
  c.images = image_count(data, s);
  const int size = net.meta().input_size;
  c.patch = patch_size(s, size);
  c.patches = patch_count(size, size, c.patch);
  c.classes = net.spec().num_classes;
  c.timings = empty_timings(s.methods);
  r.methods = s.methods;
  r.segmentation = segmentation_kind_name(kind);
  r.samples = s.samples;
  for (const auto& m : s.methods)
    for (int k : ks) r.rows.push_back({m, k, 0, 0, 0, 0.0, 0, 0.0});

  const std::size_t nm = s.methods.size(), nk = ks.size();
  ProgressRef bar(progress);
  bar.begin("lime " + data.description(), c.images * (1 + nm * (std::size_t(s.samples) + nk)));
  Stopwatch total, watch;
  for (std::size_t index = 0; index < c.images; ++index) {
    const Batch b = load_checked_batch(data, index, 1, c.classes);
    const Tensor& img = b.images01;

    watch.lap();
    const Tensor clean = clean_logits(net, img);
    c.timings.clean += watch.lap();
    const int top = argmax(clean.image(0), c.classes);
    c.clean_correct += top == b.labels[0];
    bar.advance(1);

    const Segmentation seg = make_segmentation(kind, img, c.patch);
    r.segments_min = index == 0 ? seg.count : std::min(r.segments_min, seg.count);
    r.segments_max = std::max(r.segments_max, seg.count);
    r.segments_sum += seg.count;
    // The paired design: this matrix is every method's neighbourhood of the image.
    const std::vector<std::uint8_t> z = perturbation_matrix(s.samples, seg.count, kLimeKeepProb, s.seed + index);
    const auto methods = make_methods(s.methods, &seg);

    std::vector<std::vector<int>> rankings(nm);
    const bool example = index < std::size_t(kLimeExampleImages);
    if (example) r.examples.push_back({b.names[0], b.labels[0], top, img.clone(), seg, {}});
    for (std::size_t m = 0; m < nm; ++m) {
      const MaskTarget probability = class_probability_target(net, *methods[m], img, top);
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
      const Tensor logits = yardstick->logits(net, repeat(img, n), stack_masks(chunk));
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
  }
  bar.end();
  c.timings.total = total.lap();
  return r;
}

}  // namespace lmask
