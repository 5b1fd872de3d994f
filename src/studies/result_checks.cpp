// result_checks.cpp — see result_checks.h.
#include "result_checks.h"

#include <cmath>
#include <cstdio>

namespace lmask::study {

namespace {

std::string str(std::size_t v) { return std::to_string(v); }

// The first problem found: each check runs only while none is.
class Problems {
 public:
  Problems& require(bool ok, const std::string& where, const std::string& problem) {
    if (!ok && first_.empty()) first_ = where + ": " + problem;
    return *this;
  }
  Problems& at_most(std::size_t count, const char* what, std::size_t images, const std::string& where) {
    return require(count <= images, where, str(count) + " " + what + " of " + str(images) + " images");
  }
  Problems& same_images(std::size_t row_images, std::size_t images, const std::string& where) {
    return require(row_images == images, where, str(row_images) + " images, but the run has " + str(images));
  }
  Problems& finite(double v, const char* what, const std::string& where) {
    return require(std::isfinite(v), where, std::string("the ") + what + " is not finite");
  }
  // A sum of values each within [0, 1]: exactly within [0, n].
  Problems& unit_sum(double v, const char* what, std::size_t n, const std::string& where) {
    finite(v, what, where);
    return require(v >= 0 && v <= double(n), where,
                   std::string("the ") + what + " is outside [0, " + str(n) + "] for " + str(n) + " images");
  }
  Problems& seconds(double v, const std::string& where) {
    return require(std::isfinite(v) && v >= 0, where, "a time that is not a finite, non-negative number of seconds");
  }
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};

void check_common(Problems& p, const StudyCommon& c) {
  p.at_most(c.clean_correct, "correct", c.images, "the clean model");
  p.seconds(c.timings.total, "timings").seconds(c.timings.clean, "timings");
  for (const auto& m : c.timings.methods) p.seconds(m.second, "timings of " + m.first);
}

std::string fraction_name(const RemovalRow& row) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", row.fraction);
  return row.method + " at fraction " + buf;
}

}  // namespace

std::string result_problem(const RemovalResult& r) {
  Problems p;
  check_common(p, r.common);
  for (const RemovalRow& row : r.rows) {
    const std::string where = fraction_name(row);
    p.same_images(row.images, r.common.images, where)
        .at_most(row.correct, "correct", row.images, where)
        .at_most(row.unchanged, "unchanged", row.images, where)
        .finite(row.kl_sum, "KL sum", where);
  }
  return p.first();
}

std::string result_problem(const LeakageResult& r) {
  Problems p;
  check_common(p, r.common);
  for (const LeakageRow& row : r.rows) {
    const std::string where = row.method + ", " + row.condition;
    p.same_images(row.images, r.common.images, where).at_most(row.correct, "correct", row.images, where);
  }
  return p.first();
}

std::string result_problem(const LinearityResult& r) {
  Problems p;
  check_common(p, r.common);
  for (const LinearityRow& row : r.rows) {
    p.same_images(row.images, r.common.images, row.method)
        .at_most(row.zero_feature_images, "with zero features", row.images, row.method)
        .finite(row.cosine_sum, "cosine sum", row.method)
        .finite(row.rel_l2_sum, "relative distance sum", row.method)
        .require(row.rel_l2_sum >= 0, row.method, "the relative distance sum is negative");
  }
  return p.first();
}

std::string result_problem(const LimeResult& r) {
  Problems p;
  const StudyCommon& c = r.common;
  check_common(p, c);
  p.seconds(r.ablation_seconds, "timings of the ablations");
  for (const LimeRow& row : r.rows) {
    const std::string where = row.method + " at k = " + std::to_string(row.k);
    p.same_images(row.images, c.images, where)
        .at_most(row.correct, "correct", row.images, where)
        .at_most(row.unchanged, "unchanged", row.images, where)
        .unit_sum(row.prob_sum, "probability sum", row.images, where)
        // Every row counts the same images with an object mask.
        .require(row.object_images == r.rows.front().object_images, where,
                 str(row.object_images) + " images with an object mask, but " + r.rows.front().method + " at k = " +
                     std::to_string(r.rows.front().k) + " has " + str(r.rows.front().object_images))
        .at_most(row.object_images, "with an object mask", row.images, where)
        .unit_sum(row.jaccard_sum, "Jaccard sum", row.object_images, where);
  }
  const std::size_t lo = std::size_t(r.segments_min), hi = std::size_t(r.segments_max);
  if (c.images > 0)
    p.require(r.segments_min >= 1 && lo <= hi && r.segments_sum / c.images >= lo &&
                  (long double)r.segments_sum <= (long double)hi * c.images,
              "segments", str(r.segments_sum) + " over " + str(c.images) + " images of " + str(lo) + " to " +
                              str(hi) + " segments each");
  else
    p.require(r.segments_sum == 0, "segments", str(r.segments_sum) + " segments in no images");
  p.require(r.examples.size() <= c.images, "examples", str(r.examples.size()) + " of " + str(c.images) + " images");
  for (const LimeExample& e : r.examples) {
    const std::string where = "example " + e.name;
    p.require(e.label >= 0 && e.label < c.classes && e.predicted >= 0 && e.predicted < c.classes, where,
              "a class outside the model's " + std::to_string(c.classes));
    for (const auto& per_method : e.coefficients)
      for (double v : per_method) p.finite(v, "LIME coefficient", where);
  }
  return p.first();
}

std::string result_problem(const StudyResult& r) {
  return std::visit([](const auto& result) { return result_problem(result); }, r);
}

}  // namespace lmask::study
