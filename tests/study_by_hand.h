// study_by_hand.h — what the tests that recompute a study's headline numbers
// by hand share: a dataset relabelled by the test (so that hits and misses
// are of the test's choosing), the clean logits through the network's public
// forward, softmax and argmax written out here rather than taken from the
// library, and a CSV line looked up by its leading fields.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "lmask/dataset.h"
#include "lmask/image.h"
#include "lmask/model.h"
#include "lmask/tensor.h"

namespace lmask::testing {

// Another dataset's images (and object masks) under labels chosen by the test.
class Relabelled final : public Dataset {
 public:
  Relabelled(const Dataset& inner, std::vector<int> labels) : inner_(inner), labels_(std::move(labels)) {}
  std::size_t size() const override { return labels_.size(); }
  Sample get(std::size_t i) const override {
    Sample s = inner_.get(i);
    s.label = labels_[i];
    return s;
  }
  const std::vector<std::string>& class_names() const override { return inner_.class_names(); }
  std::string description() const override { return "relabelled " + inner_.description(); }

 private:
  const Dataset& inner_;
  std::vector<int> labels_;
};

// logits [N,C,1,1] of the plain network on images in [0,1]: normalized, then forward.
inline Tensor clean_logits_by_hand(const Model& model, const Tensor& img01) {
  Tensor x = img01.clone();
  normalize(x, model.meta().mean, model.meta().std);
  return model.forward(x);
}

// The first largest logit of image i of logits [N,C,1,1].
inline int top_class(const Tensor& logits, int i) {
  const float* v = logits.image(i);
  return static_cast<int>(std::max_element(v, v + logits.c()) - v);
}

// log softmax of image i of logits [N,C,1,1], in double: l_c - max - log sum exp(l - max).
inline std::vector<double> log_softmax_by_hand(const Tensor& logits, int i) {
  const float* v = logits.image(i);
  const double top = *std::max_element(v, v + logits.c());
  double sum = 0;
  for (int c = 0; c < logits.c(); ++c) sum += std::exp(double(v[c]) - top);
  std::vector<double> out(logits.c());
  for (int c = 0; c < logits.c(); ++c) out[c] = double(v[c]) - top - std::log(sum);
  return out;
}

// softmax of image i of logits [N,C,1,1], in double.
inline std::vector<double> softmax_by_hand(const Tensor& logits, int i) {
  std::vector<double> p = log_softmax_by_hand(logits, i);
  for (double& x : p) x = std::exp(x);
  return p;
}

// The fields of the CSV line that starts with `prefix` (e.g. "grey,0.5,"), split at
// commas (the methods these tests name hold none); the test fails without one.
inline std::vector<std::string> csv_line(const std::string& csv, const std::string& prefix) {
  std::istringstream lines(csv);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(prefix, 0) == 0) {
      std::vector<std::string> fields;
      std::istringstream in(line);
      for (std::string f; std::getline(in, f, ',');) fields.push_back(f);
      return fields;
    }
  FAIL("no CSV line starts with '" << prefix << "' in:\n" << csv);
  return {};
}

}  // namespace lmask::testing
