// linearity.cpp — S4: is removal additive? With everything but one patch
// removed, four times, the features f_1..f_4 should add up to the features
// f_all of the four patches shown together if the method treats the removed
// region as truly absent and the network were linear; how far the sum is from
// f_all (cosine, relative L2) measures how much the method's filling interacts.
#include <algorithm>
#include <cmath>

#include "lmask/error.h"
#include "lmask/mask_builders.h"
#include "lmask/study.h"
#include "study_common.h"
#include "study_loop.h"
#include "study_result.h"

namespace lmask {

namespace {

// Everything removed except the patches in `keep`.
Mask only(int h, int w, int patch, int patches, const std::vector<int>& keep) {
  std::vector<int> removed;
  for (int id = 0; id < patches; ++id)
    if (std::find(keep.begin(), keep.end(), id) == keep.end()) removed.push_back(id);
  return patch_mask(h, w, patch, removed);
}

}  // namespace

namespace study {

LinearityResult empty_linearity(const Model& model, const StudySettings& s) {
  make_methods(s.methods);  // names checked
  check_batch(s);
  LinearityResult r;
  r.common = empty_patch_common(model, s);
  StudyCommon& c = r.common;
  if (c.patches < kLinearityPatches)
    throw InputError("--patches", std::to_string(c.patch) + " px patches give only " + std::to_string(c.patches) +
                                      " patches at " + std::to_string(model.meta().input_size) +
                                      " px; linearity needs " + std::to_string(kLinearityPatches));
  for (const auto& m : s.methods) r.rows.push_back({m, 0, 0, {}, {}});
  return r;
}

void write_state(StateWriter& out, const LinearityResult& r) {
  out.common(r.common);
  for (const LinearityRow& row : r.rows)
    out.count(row.images).count(row.zero_feature_images).sum(row.cosine_sum).sum(row.rel_l2_sum);
}

void add_state(StateReader& in, LinearityResult& r) {
  in.add_common(r.common);
  for (LinearityRow& row : r.rows) {
    row.images += in.count(), row.zero_feature_images += in.count();
    row.cosine_sum += in.sum();
    row.rel_l2_sum += in.sum();
  }
}

}  // namespace study

LinearityResult run_linearity(const Model& model, const Dataset& data, const StudySettings& s,
                              StudyProgress* progress, StudyCheckpoint* checkpoint) {
  using namespace study;
  LinearityResult r = empty_linearity(model, s);
  StudyCommon& c = r.common;
  const auto methods = make_methods(s.methods);
  constexpr int kViews = kLinearityPatches + 1;  // each patch alone, then all four
  const std::size_t per_image = 1 + methods.size() * kViews;
  Stopwatch watch;
  for_each_batch("linearity", data, s, s.batch, per_image, r, progress, checkpoint,
                 [&](const Batch& b, ProgressRef& bar) {
    const int count = static_cast<int>(b.size());
    const int h = b.images01.h(), w = b.images01.w();

    watch.lap();
    const Tensor clean = clean_logits(model, b.images01);
    c.timings.clean += watch.lap();
    for (int i = 0; i < count; ++i) c.clean_correct += argmax(clean.image(i), c.classes) == b.labels[i];
    bar.advance(count);

    std::vector<std::vector<Mask>> per_view(kViews);
    for (int i = 0; i < count; ++i) {
      std::vector<int> four = image_patch_order(c.patches, s, b.indices[i]);
      four.resize(kLinearityPatches);
      for (int v = 0; v < kLinearityPatches; ++v) per_view[v].push_back(only(h, w, c.patch, c.patches, {four[v]}));
      per_view[kLinearityPatches].push_back(only(h, w, c.patch, c.patches, four));
    }
    std::vector<Mask> views;
    for (const auto& masks : per_view) views.push_back(stack_masks(masks));

    for (std::size_t m = 0; m < methods.size(); ++m) {
      watch.lap();
      std::vector<Tensor> feats;
      for (const Mask& view : views) {
        feats.push_back(methods[m]->features(model, b.images01, view));
        bar.advance(count);
      }
      LinearityRow& row = r.rows[m];
      const int f = feats[0].c();
      for (int i = 0; i < count; ++i) {
        double dot = 0, sum_sq = 0, all_sq = 0, diff_sq = 0;
        for (int k = 0; k < f; ++k) {
          double sum = 0;
          for (int v = 0; v < kLinearityPatches; ++v) sum += feats[v].image(i)[k];
          const double all = feats[kLinearityPatches].image(i)[k];
          dot += sum * all, sum_sq += sum * sum, all_sq += all * all, diff_sq += (sum - all) * (sum - all);
        }
        row.images += 1;
        if (all_sq == 0) {
          row.zero_feature_images += 1;
          continue;
        }
        // A zero sum against non-zero f_all: orthogonal (cosine 0), distance 1.
        row.cosine_sum += sum_sq > 0 ? dot / std::sqrt(sum_sq * all_sq) : 0.0;
        row.rel_l2_sum += std::sqrt(diff_sq / all_sq);
      }
      c.timings.methods[m].second += watch.lap();
    }
  });
  return r;
}

}  // namespace lmask
