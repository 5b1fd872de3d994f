// small_study.h — the tiny study the resume and shard tests run: the golden
// random ResNet-50 at 32 px and five Fashion-MNIST-like images, written once
// per test process, with settings small enough for runs of seconds.
#pragma once

#include <string>

#include "lmask/study.h"
#include "small_input_weights.h"
#include "temp_dir.h"
#include "tiny_fashion_mnist.h"

namespace lmask::testing {

constexpr int kSmallStudySize = 32;   // the model's input size
constexpr int kSmallStudyImages = 5;  // batches of 2: [0,1] [2,3] [4]

struct SmallStudyFiles {
  TempDir dir{"small_study"};
  std::string weights;
  SmallStudyFiles() {
    weights = small_input_weights(dir, kSmallStudySize);
    write_five_bar_images(dir);
  }
  std::string dataset() const { return "fmnist:test:" + dir.path.string(); }
};

inline const SmallStudyFiles& small_study_files() {
  static const SmallStudyFiles f;
  return f;
}

// The small study's model, loaded once per test process.
inline const Model& small_study_model() {
  static const Model model = Model::load(small_study_files().weights);
  return model;
}

// Two methods, three fractions, batches of 2, 8 LIME samples, seed 11.
inline StudySettings small_study_settings() {
  StudySettings s;
  s.methods = {"grey", "layer"};
  s.fractions = {0.0, 0.5, 1.0};
  s.limit = 0;
  s.batch = 2;
  s.seed = 11;
  s.samples = 8;
  return s;
}

// `study` on those files with those settings, writing into out_dir.
inline StudyRun small_study_run(const std::string& study, const std::string& out_dir) {
  StudyRun run;
  run.study = study;
  run.weights = small_study_files().weights;
  run.dataset = small_study_files().dataset();
  run.out_dir = out_dir;
  run.settings = small_study_settings();
  return run;
}

}  // namespace lmask::testing
