// test_segment_ablation.cpp — the library pieces the Python module stands on:
// segment_ablation (each drop against a forward of its own, written out
// here), clean_logits / clean_features (the normalised plain forward),
// Tensor::borrowed (a view of foreign memory, never copied or freed) and
// repeat_image. The model is the shipped one at 64 px, so forwards are cheap.
#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "lmask/image.h"
#include "lmask/mask_builders.h"
#include "lmask/masking.h"
#include "lmask/model.h"
#include "lmask/segment_ablation.h"
#include "lmask/segmentation.h"

using namespace lmask;

namespace {

const Model& shipped_model() {
  static const Model model = Model::load(std::string(LMASK_SOURCE_DIR) + "/weights/resnet50_fmnist.h5");
  return model;
}

Tensor shipped_image() {
  const Weights& meta = shipped_model().meta();
  return preprocess_01(read_image(std::string(LMASK_SOURCE_DIR) + "/data/fmnist-test-0.png"), meta.resize_size,
                       meta.input_size);
}

}  // namespace

TEST_CASE("tensor: borrowed views foreign memory without copying, repeat_image copies one image n times") {
  std::vector<float> memory(2 * 3 * 2 * 2);
  for (std::size_t i = 0; i < memory.size(); ++i) memory[i] = float(i);
  {
    const Tensor t = Tensor::borrowed(memory.data(), {2, 3, 2, 2});
    CHECK(t.data() == memory.data());
    CHECK(t.batch(1, 1).data() == memory.data() + 12);
    CHECK(t.at(1, 2, 1, 0) == 22.f);
  }  // dropping the tensor frees nothing: the vector still owns the memory
  CHECK(memory[5] == 5.f);
  CHECK_THROWS_AS(Tensor::borrowed(nullptr, {1, 1, 1, 1}), std::invalid_argument);

  const Tensor one = Tensor::borrowed(memory.data(), {1, 3, 2, 2});
  const Tensor three = repeat_image(one, 3);
  CHECK(three.shape() == Shape{3, 3, 2, 2});
  for (int i = 0; i < 3; ++i)
    for (int k = 0; k < 12; ++k) CHECK(three.image(i)[k] == float(k));
  CHECK(three.data() != memory.data());
  CHECK_THROWS_AS(repeat_image(three, 2), std::invalid_argument);
}

TEST_CASE("masking: clean_logits and clean_features are the model's forward of the normalised image") {
  const Model& model = shipped_model();
  const Tensor img01 = shipped_image();
  Tensor x = img01.clone();
  normalize(x, model.meta().mean, model.meta().std);
  CHECK(max_abs_diff(clean_logits(model, img01), model.forward(x)) == 0.f);
  CHECK(max_abs_diff(clean_features(model, img01), model.features(x)) == 0.f);
  CHECK(max_abs_diff(img01, shipped_image()) == 0.f);  // the input is left as it was
}

TEST_CASE("ablation: each segment's drop is the reference logit minus a forward with that segment removed") {
  const Model& model = shipped_model();
  const Tensor img01 = shipped_image();
  const Segmentation seg = grid_segments(img01.h(), img01.w(), 16);  // 16 segments
  const int cls = 3;
  for (const std::string name : {"layer", "grey", "layer-renorm"}) {
    CAPTURE(name);
    const auto method = make_masking_method(name);
    // Batches of 5 over 16 segments: a short last batch, and views of the copies.
    const std::vector<double> drops = segment_ablation(model, *method, img01, seg, cls, 5);
    REQUIRE(drops.size() == std::size_t(seg.count));
    const double reference = method->logits(model, img01, Mask::visible(1, seg.h, seg.w)).image(0)[cls];
    if (name != "layer-renorm") CHECK(std::fabs(reference - clean_logits(model, img01).image(0)[cls]) < 1e-3);
    bool moved = false;
    for (int s = 0; s < seg.count; ++s) {
      const Tensor one = method->logits(model, img01, segment_mask(seg.labels, seg.h, seg.w, {s}));
      CAPTURE(s);
      CHECK(std::fabs(drops[s] - (reference - one.image(0)[cls])) < 1e-3);
      moved = moved || std::fabs(drops[s]) > 1e-3;
    }
    CHECK(moved);  // the segments matter: the drops are not all zero
  }
  const auto layer = make_masking_method("layer");
  CHECK_THROWS_AS(segment_ablation(model, *layer, img01, seg, model.num_classes()), std::invalid_argument);
  CHECK_THROWS_AS(segment_ablation(model, *layer, img01, grid_segments(32, 32, 8), cls), std::invalid_argument);
  CHECK_THROWS_AS(segment_ablation(model, *layer, img01, seg, cls, 0), std::invalid_argument);
}
