// study_common.cpp — see study_common.h.
#include "study_common.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "lmask/error.h"
#include "lmask/mask_builders.h"

namespace lmask::study {

std::size_t image_count(const Dataset& data, const StudySettings& s) {
  const std::size_t n = s.limit ? std::min(s.limit, data.size()) : data.size();
  if (n == 0) throw InputError(data.description(), "no images to study");
  return n;
}

std::vector<std::unique_ptr<MaskingMethod>> make_methods(const std::vector<std::string>& names,
                                                         const Segmentation* segments) {
  if (names.empty()) throw InputError("--methods", "no masking methods given");
  std::set<std::string> seen;
  std::vector<std::unique_ptr<MaskingMethod>> methods;
  for (const auto& name : names) {
    if (!seen.insert(name).second) throw InputError("--methods", "'" + name + "' is listed twice");
    methods.push_back(name == "segment-mean" && segments ? make_segment_mean_method(*segments)
                                                         : make_masking_method(name));
  }
  return methods;
}

int patch_size(const StudySettings& s, int input_size) {
  const int p = s.patch ? s.patch : default_patch_size(input_size);
  if (p <= 0) throw InputError("--patches", "patch size must be positive, not " + std::to_string(p));
  return p;
}

void check_batch(const StudySettings& s) {
  if (s.batch < 1) throw InputError("--batch", "must be at least 1, not " + std::to_string(s.batch));
}

Batch load_checked_batch(const Dataset& data, std::size_t first, std::size_t count, const StudySettings& s,
                         StudyCommon& c, ProgressRef& bar, std::size_t per_image) {
  std::vector<std::string> skipped;
  Batch b = load_batch(data, first, count, s.on_bad_file, skipped);
  for (const std::string& problem : skipped) bar.skipped(problem);
  c.skipped += skipped.size();
  bar.advance(skipped.size() * per_image);
  for (std::size_t i = 0; i < b.size(); ++i)
    if (b.labels[i] < 0 || b.labels[i] >= c.classes)
      throw InputError(b.names[i], "label " + std::to_string(b.labels[i]) + " but the model has " +
                                       std::to_string(c.classes) + " classes");
  return b;
}

std::vector<int> image_patch_order(int patches, const StudySettings& s, std::size_t index) {
  return random_order(patches, s.seed + index);
}

int argmax(const float* v, int n) {
  return static_cast<int>(std::max_element(v, v + n) - v);
}

std::vector<double> log_softmax(const float* logits, int n) {
  const double top = *std::max_element(logits, logits + n);
  double sum = 0;
  for (int c = 0; c < n; ++c) sum += std::exp(logits[c] - top);
  const double log_z = top + std::log(sum);
  std::vector<double> out(n);
  for (int c = 0; c < n; ++c) out[c] = logits[c] - log_z;
  return out;
}

double kl_divergence(const std::vector<double>& log_p, const std::vector<double>& log_q) {
  double kl = 0;
  for (std::size_t c = 0; c < log_p.size(); ++c) kl += std::exp(log_p[c]) * (log_p[c] - log_q[c]);
  return kl;
}

StudyCommon empty_common(const Model& model, const StudySettings& s) {
  StudyCommon c;
  c.classes = model.num_classes();
  for (const auto& m : s.methods) c.timings.methods.emplace_back(m, 0.0);
  return c;
}

StudyCommon empty_patch_common(const Model& model, const StudySettings& s) {
  StudyCommon c = empty_common(model, s);
  const int size = model.meta().input_size;
  c.patch = patch_size(s, size);
  c.patches = patch_count(size, size, c.patch);
  return c;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char ch : s) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return out + "\"";
}

std::string chart_subject(const std::string& dataset, std::size_t images) {
  return dataset + ", " + std::to_string(images) + (images == 1 ? " image" : " images");
}

}  // namespace lmask::study
