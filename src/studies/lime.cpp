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
#include "partial_state.h"
#include "study_common.h"

namespace lmask {

namespace {

// img01 [1,3,H,W] -> [n,3,H,W], n copies.
Tensor repeat(const Tensor& img01, int n) {
  Tensor t({n, img01.c(), img01.h(), img01.w()});
  for (int i = 0; i < n; ++i) std::copy(img01.data(), img01.data() + img01.numel(), t.image(i));
  return t;
}

// The examples' LIME coefficients go into the checkpoint; their image and
// segmentation are cheap and deterministic, so a resumed run rebuilds them.
void write_examples(study::StateWriter& out, const std::vector<LimeExample>& examples) {
  out.count(examples.size());
  for (const LimeExample& e : examples) {
    out.count(e.index).text(e.name).count(std::size_t(e.label)).count(std::size_t(e.predicted));
    out.count(e.coefficients.size());
    for (const auto& per_method : e.coefficients) {
      out.count(per_method.size());
      for (double v : per_method) out.num(v);
    }
  }
}

std::vector<LimeExample> read_examples(study::StateReader& in, const Dataset& data, SegmentationKind kind, int patch,
                                       std::size_t methods, const std::string& where) {
  std::vector<LimeExample> examples(std::min<std::size_t>(in.count(), kLimeExampleImages));
  for (LimeExample& e : examples) {
    e.index = in.count();
    e.name = in.text();
    e.label = static_cast<int>(in.count());
    e.predicted = static_cast<int>(in.count());
    e.coefficients.resize(std::min<std::size_t>(in.count(), 1 << 16));
    for (auto& per_method : e.coefficients) {
      per_method.resize(std::min<std::size_t>(in.count(), 1 << 24));
      for (double& v : per_method) v = in.num();
    }
    if (e.index >= data.size()) throw InputError(data.description(), "partial state names an image beyond the dataset");
    e.image01 = data.get(e.index).image01;
    e.segments = make_segmentation(kind, e.image01, patch);
    // The picture indexes the coefficients by segment: sizes must fit exactly.
    bool fits = e.coefficients.size() == methods;
    for (const auto& per_method : e.coefficients) fits = fits && per_method.size() == std::size_t(e.segments.count);
    if (!fits)
      throw InputError(where, "partial state: an example's coefficients do not fit its segments (damaged file?)");
  }
  return examples;
}

}  // namespace

LimeResult run_lime(const ResNet& net, const Dataset& data, const StudySettings& s, StudyProgress* progress,
                    StudyCheckpoint* checkpoint) {
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
  const std::size_t planned = image_count(data, s);
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
  const std::size_t per_image = 1 + nm * (std::size_t(s.samples) + nk);
  auto rows_state = [&](auto&& state) {
    for (LimeRow& row : r.rows)
      state(row.images, row.correct, row.unchanged, row.prob_sum, row.object_images, row.jaccard_sum);
  };
  const std::size_t start = resume_point(checkpoint, c, [&](StateReader& in) {
    rows_state([&](auto& images, auto& correct, auto& unchanged, auto& prob, auto& object_images, auto& jaccard) {
      images = in.count(), correct = in.count(), unchanged = in.count(), prob = in.num();
      object_images = in.count(), jaccard = in.num();
    });
    r.segments_min = static_cast<int>(in.count()), r.segments_max = static_cast<int>(in.count());
    r.segments_sum = in.count();
    r.ablation_seconds = in.num();
    r.examples = read_examples(in, data, kind, c.patch, nm, checkpoint->name());
  });
  ProgressRef bar(progress);
  bar.begin("lime " + data.description(), planned * per_image);
  bar.advance(start * per_image);
  Stopwatch total, watch;
  for (std::size_t index = start; index < planned; ++index) {
    const Batch b = load_checked_batch(data, index, 1, s, c, bar, per_image);
    if (b.size() == 0) continue;
    c.images += 1;
    const Tensor& img = b.images01;

    watch.lap();
    const Tensor clean = clean_logits(net, img);
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
    c.timings.total += total.lap();
    save_point(checkpoint, index + 1, c, [&](StateWriter& out) {
      rows_state([&](auto images, auto correct, auto unchanged, auto prob, auto object_images, auto jaccard) {
        out.count(images).count(correct).count(unchanged).num(prob).count(object_images).num(jaccard);
      });
      out.count(std::size_t(r.segments_min)).count(std::size_t(r.segments_max)).count(r.segments_sum);
      out.num(r.ablation_seconds);
      write_examples(out, r.examples);
    });
  }
  bar.end();
  c.timings.total += total.lap();
  return r;
}

}  // namespace lmask
