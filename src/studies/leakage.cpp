// leakage.cpp — S2: does the shape of the hole tell the class? Each method
// removes the object (its object mask) from the image; the controls remove
// the same mask rolled off the object, and the object's mask from an image
// with no object at all. Accuracy far above chance in "object" and
// "mask-alone" means the removal itself leaks the object's shape.
#include <algorithm>

#include "lmask/error.h"
#include "lmask/finite_logits.h"
#include "lmask/study.h"
#include "study_common.h"
#include "study_loop.h"
#include "study_result.h"

namespace lmask {

std::vector<std::string> leakage_conditions() { return {"object", "rolled", "mask-alone"}; }

Mask roll_mask(const Mask& m, int dy, int dx) {
  const int h = m.h(), w = m.w();
  Tensor out({m.n(), 1, h, w});
  // ((v % n) + n) % n: a proper modulo for negative shifts too.
  const int sy = ((dy % h) + h) % h, sx = ((dx % w) + w) % w;
  for (int n = 0; n < m.n(); ++n) {
    const float* src = m.image(n);
    float* dst = out.image(n);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) dst[((y + sy) % h) * w + (x + sx) % w] = src[y * w + x];
  }
  return Mask(out);
}

namespace {

// What is visible when `object` is removed: its complement.
Mask without(const Mask& object) {
  Tensor t(object.tensor().shape());
  const float* o = object.tensor().data();
  for (std::size_t i = 0; i < t.numel(); ++i) t.data()[i] = 1.f - o[i];
  return Mask(t);
}

}  // namespace

namespace study {

LeakageResult empty_leakage(const Model& model, const StudySettings& s) {
  make_methods(s.methods);  // names checked
  check_batch(s);
  LeakageResult r;
  r.common = empty_common(model, s);
  for (const auto& m : s.methods)
    for (const auto& cond : leakage_conditions()) r.rows.push_back({m, cond, 0, 0});
  return r;
}

void write_state(StateWriter& out, const LeakageResult& r) {
  out.common(r.common);
  for (const LeakageRow& row : r.rows) out.count(row.images).count(row.correct);
}

void add_state(StateReader& in, LeakageResult& r) {
  in.add_common(r.common);
  for (LeakageRow& row : r.rows) row.images += in.count(), row.correct += in.count();
}

}  // namespace study

LeakageResult run_leakage(const Model& model, const Dataset& data, const StudySettings& s, StudyProgress* progress,
                          StudyCheckpoint* checkpoint) {
  using namespace study;
  LeakageResult r = empty_leakage(model, s);
  StudyCommon& c = r.common;
  const auto methods = make_methods(s.methods);
  const std::vector<std::string> conditions = leakage_conditions();
  const std::size_t per_image = 1 + methods.size() * conditions.size();
  Stopwatch watch;
  for_each_batch("leakage", data, s, s.batch, per_image, r, progress, checkpoint, [&](const Batch& b, ProgressRef& bar) {
    const int count = static_cast<int>(b.size());
    if (b.objects.empty())
      throw InputError(data.description(), "images " + std::to_string(b.indices.front()) + ".." +
                                               std::to_string(b.indices.back()) +
                                               " include some without an object mask; the leakage study needs one "
                                               "for every image (fmnist, or folder:ROOT,masks=MASKROOT)");
    const int h = b.images01.h(), w = b.images01.w();

    watch.lap();
    const Tensor clean = clean_logits(model, b.images01);
    c.timings.clean += watch.lap();
    for (int i = 0; i < count; ++i) c.clean_correct += argmax(clean.image(i), c.classes) == b.labels[i];
    bar.advance(count);

    // One (image, visible mask) pair per condition, in leakage_conditions() order.
    const Tensor background({count, 3, h, w});  // zeros: Fashion-MNIST's background
    const Mask hole = without(b.objects);
    const std::vector<std::pair<const Tensor*, Mask>> inputs = {
        {&b.images01, hole}, {&b.images01, without(roll_mask(b.objects, h / 2, w / 2))}, {&background, hole}};

    for (std::size_t m = 0; m < methods.size(); ++m) {
      watch.lap();
      for (std::size_t k = 0; k < conditions.size(); ++k) {
        const Tensor logits = methods[m]->logits(model, *inputs[k].first, inputs[k].second);
        require_finite_logits(logits, model.meta().path);
        LeakageRow& row = r.rows[m * conditions.size() + k];
        for (int i = 0; i < count; ++i) {
          row.images += 1;
          row.correct += argmax(logits.image(i), c.classes) == b.labels[i];
        }
        bar.advance(count);
      }
      c.timings.methods[m].second += watch.lap();
    }
  });
  return r;
}

}  // namespace lmask
