// leakage.cpp — S2: does the shape of the hole tell the class? Each method
// removes the object (its object mask) from the image; the controls remove
// the same mask rolled off the object, and the object's mask from an image
// with no object at all. Accuracy far above chance in "object" and
// "mask-alone" means the removal itself leaks the object's shape.
#include <algorithm>

#include "lmask/error.h"
#include "lmask/study.h"
#include "partial_state.h"
#include "study_common.h"

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

LeakageResult run_leakage(const ResNet& net, const Dataset& data, const StudySettings& s, StudyProgress* progress,
                          StudyCheckpoint* checkpoint) {
  using namespace study;
  const auto methods = make_methods(s.methods);
  check_batch(s);
  const std::vector<std::string> conditions = leakage_conditions();

  LeakageResult r;
  StudyCommon& c = r.common;
  const std::size_t planned = image_count(data, s);
  c.classes = net.spec().num_classes;
  c.timings = empty_timings(s.methods);
  for (const auto& m : s.methods)
    for (const auto& cond : conditions) r.rows.push_back({m, cond, 0, 0});

  const std::size_t per_image = 1 + methods.size() * conditions.size();
  const std::size_t start = resume_point(checkpoint, c, [&](StateReader& in) {
    for (LeakageRow& row : r.rows) row.images = in.count(), row.correct = in.count();
  });
  ProgressRef bar(progress);
  bar.begin("leakage " + data.description(), planned * per_image);
  bar.advance(start * per_image);
  Stopwatch total, watch;
  for (std::size_t first = start; first < planned; first += s.batch) {
    const std::size_t wanted = std::min<std::size_t>(s.batch, planned - first);
    const Batch b = load_checked_batch(data, first, wanted, s, c, bar, per_image);
    const int count = static_cast<int>(b.size());
    if (count == 0) continue;
    c.images += count;
    if (b.objects.empty())
      throw InputError(data.description(), "images " + std::to_string(first) + ".." +
                                               std::to_string(first + wanted - 1) +
                                               " include some without an object mask; the leakage study needs one "
                                               "for every image (fmnist, or folder:ROOT,masks=MASKROOT)");
    const int h = b.images01.h(), w = b.images01.w();

    watch.lap();
    const Tensor clean = clean_logits(net, b.images01);
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
        const Tensor logits = methods[m]->logits(net, *inputs[k].first, inputs[k].second);
        LeakageRow& row = r.rows[m * conditions.size() + k];
        for (int i = 0; i < count; ++i) {
          row.images += 1;
          row.correct += argmax(logits.image(i), c.classes) == b.labels[i];
        }
        bar.advance(count);
      }
      c.timings.methods[m].second += watch.lap();
    }
    c.timings.total += total.lap();
    save_point(checkpoint, first + wanted, c, [&](StateWriter& out) {
      for (const LeakageRow& row : r.rows) out.count(row.images).count(row.correct);
    });
  }
  bar.end();
  c.timings.total += total.lap();
  return r;
}

}  // namespace lmask
