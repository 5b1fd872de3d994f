// removal.cpp — S1: how far each masking method moves the model as more of
// the image is removed. Per (method, fraction): top-1 hits, predictions equal
// to the clean one, and KL(clean softmax || masked softmax).
//
// For every batch the clean forward runs once and the masks of every fraction
// are built once; each method then sees exactly those masks (paired design).
#include <algorithm>
#include <cmath>

#include "lmask/error.h"
#include "lmask/finite_logits.h"
#include "lmask/mask_builders.h"
#include "lmask/study.h"
#include "study_common.h"
#include "study_loop.h"
#include "study_result.h"

namespace lmask {

namespace study {

RemovalResult empty_removal(const Model& model, const StudySettings& s) {
  make_methods(s.methods);  // names checked
  check_batch(s);
  if (s.fractions.empty()) throw InputError("--fractions", "no fractions given");
  for (std::size_t i = 0; i < s.fractions.size(); ++i)
    if (!(s.fractions[i] >= 0 && s.fractions[i] <= 1) || (i > 0 && !(s.fractions[i] > s.fractions[i - 1])))
      throw InputError("--fractions", "fractions must increase within [0, 1]");
  RemovalResult r;
  r.common = empty_patch_common(model, s);
  StudyCommon& c = r.common;
  for (const auto& m : s.methods)
    for (double f : s.fractions) r.rows.push_back({m, f, static_cast<int>(std::lround(f * c.patches)), 0, 0, 0, {}});
  return r;
}

void write_state(StateWriter& out, const RemovalResult& r) {
  out.common(r.common);
  for (const RemovalRow& row : r.rows) out.count(row.images).count(row.correct).count(row.unchanged).sum(row.kl_sum);
}

void add_state(StateReader& in, RemovalResult& r) {
  in.add_common(r.common);
  for (RemovalRow& row : r.rows) {
    row.images += in.count(), row.correct += in.count(), row.unchanged += in.count();
    row.kl_sum += in.sum();
  }
}

}  // namespace study

RemovalResult run_removal(const Model& model, const Dataset& data, const StudySettings& s, StudyProgress* progress,
                          StudyCheckpoint* checkpoint) {
  using namespace study;
  RemovalResult r = empty_removal(model, s);
  StudyCommon& c = r.common;
  const auto methods = make_methods(s.methods);
  const std::size_t nf = s.fractions.size();
  const std::size_t per_image = 1 + methods.size() * nf;
  Stopwatch watch;
  for_each_batch("removal", data, s, s.batch, per_image, r, progress, checkpoint, [&](const Batch& b, ProgressRef& bar) {
    const int count = static_cast<int>(b.size());
    const int h = b.images01.h(), w = b.images01.w();

    watch.lap();
    const Tensor clean = clean_logits(model, b.images01);
    c.timings.clean += watch.lap();
    std::vector<int> clean_top(count);
    std::vector<std::vector<double>> clean_log_p(count);
    for (int i = 0; i < count; ++i) {
      clean_top[i] = argmax(clean.image(i), c.classes);
      clean_log_p[i] = log_softmax(clean.image(i), c.classes);
      c.clean_correct += clean_top[i] == b.labels[i];
    }
    bar.advance(count);

    // masks[k]: the batch's masks at fraction k, each image its own patch order.
    std::vector<Mask> masks;
    std::vector<std::vector<int>> orders;
    for (int i = 0; i < count; ++i) orders.push_back(image_patch_order(c.patches, s, b.indices[i]));
    for (std::size_t k = 0; k < nf; ++k) {
      std::vector<Mask> per_image;
      for (int i = 0; i < count; ++i) {
        const auto& order = orders[i];
        const std::vector<int> removed(order.begin(), order.begin() + r.rows[k].removed_patches);
        per_image.push_back(patch_mask(h, w, c.patch, removed));
      }
      masks.push_back(stack_masks(per_image));
    }

    for (std::size_t m = 0; m < methods.size(); ++m) {
      watch.lap();
      for (std::size_t k = 0; k < nf; ++k) {
        const Tensor logits = methods[m]->logits(model, b.images01, masks[k]);
        require_finite_logits(logits, model.meta().path);
        RemovalRow& row = r.rows[m * nf + k];
        for (int i = 0; i < count; ++i) {
          const int top = argmax(logits.image(i), c.classes);
          row.images += 1;
          row.correct += top == b.labels[i];
          row.unchanged += top == clean_top[i];
          row.kl_sum += kl_divergence(clean_log_p[i], log_softmax(logits.image(i), c.classes));
        }
        bar.advance(count);
      }
      c.timings.methods[m].second += watch.lap();
    }
  });
  return r;
}

}  // namespace lmask
