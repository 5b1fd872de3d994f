// study_common.h — the plumbing the four studies share: how many images,
// the methods, batches with label checks, per-image patch orders, softmax
// statistics, timing and report formatting. Internal to src/studies; the
// interface is lmask/study.h.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "lmask/dataset.h"
#include "lmask/masking.h"
#include "lmask/model.h"
#include "lmask/study.h"

namespace lmask::study {

// min(limit, size), or size when limit is 0; InputError for an empty result.
std::size_t image_count(const Dataset& data, const StudySettings& s);
// The methods by name (InputError for unknown or repeated ones, or none).
// "segment-mean" is built on `segments` (the lime study's segmentation of
// the image at hand) and refused without them.
std::vector<std::unique_ptr<MaskingMethod>> make_methods(const std::vector<std::string>& names,
                                                         const Segmentation* segments = nullptr);
// settings.patch, or the default for the model; InputError when not positive.
int patch_size(const StudySettings& s, int input_size);
// InputError unless 1 <= batch.
void check_batch(const StudySettings& s);

class ProgressRef;
// Images [first, first + count) with every label checked against the
// model's classes. Under BadFilePolicy::skip the unreadable ones are left
// out: counted in c.skipped, reported to `bar`, which also moves on by the
// `per_image` steps each would have taken. The batch may come back empty.
Batch load_checked_batch(const Dataset& data, std::size_t first, std::size_t count, const StudySettings& s,
                         StudyCommon& c, ProgressRef& bar, std::size_t per_image);

// The patch order of image `index` of the run: the paired design's one source of randomness.
std::vector<int> image_patch_order(int patches, const StudySettings& s, std::size_t index);

int argmax(const float* v, int n);  // the first maximum
// log softmax in double, so that KL of identical logits is exactly 0.
std::vector<double> log_softmax(const float* logits, int n);
// KL(p || q) = sum_c p_c (log p_c - log q_c), from log-probabilities, in nats.
double kl_divergence(const std::vector<double>& log_p, const std::vector<double>& log_q);

// Progress that tolerates "no progress wanted".
class ProgressRef {
 public:
  explicit ProgressRef(StudyProgress* p) : p_(p) {}
  void begin(const std::string& what, std::size_t total) { if (p_) p_->begin(what, total); }
  void advance(std::size_t n) { if (p_) p_->advance(n); }
  void end() { if (p_) p_->end(); }
  void skipped(const std::string& problem) { if (p_) p_->skipped(problem); }

 private:
  StudyProgress* p_;
};

// Seconds since construction or the last lap().
class Stopwatch {
 public:
  double lap() {
    const auto now = std::chrono::steady_clock::now();
    const double s = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    return s;
  }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

// A fresh result's common part: the model's classes and one zeroed timing
// per method; the patch version adds the patch size and count for the
// model's input size.
StudyCommon empty_common(const Model& model, const StudySettings& s);
StudyCommon empty_patch_common(const Model& model, const StudySettings& s);

// A CSV field: quoted (with doubled quotes) when it holds a comma, quote or newline.
std::string csv_field(const std::string& s);
// a / b, or 0 when b is 0 (a study with no rows of a kind).
inline double rate(double a, double b) { return b > 0 ? a / b : 0.0; }
// "fmnist:test, 100 images": the part of every chart title saying what was studied.
std::string chart_subject(const std::string& dataset, std::size_t images);

}  // namespace lmask::study
