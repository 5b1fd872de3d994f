// test_masking_methods.cpp — every masking method behind make_masking_method:
// the input methods' golden logits (expected/greyout, expected/blackout of
// shared/golden/cases.h5), what each input method shows the network against
// its formula in shared/spec/LAYER_MASKING.md (with an independent 5x5
// Gaussian as the blur oracle), the name parser, partial-convolution layer
// masking on the golden net, and batch-versus-alone consistency.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "golden.h"
#include "lmask/error.h"
#include "lmask/mask.h"
#include "lmask/mask_builders.h"
#include "lmask/masking.h"
#include "lmask/model.h"
#include "reference_ops.h"

using namespace lmask;
using lmask::testing::golden_cases;
using lmask::testing::golden_model;
using lmask::testing::golden_path;
using lmask::testing::random_mask;
using lmask::testing::random_tensor;
using lmask::testing::read_tensor;

namespace {

constexpr int kPatch30 = 0, kDisk = 2, kAllVisible = 3, kAllRemoved = 4, kPatch50px8 = 5;
constexpr float kLogitTol = 1e-3f;  // golden/README.md: logits max |diff| <= 1e-3

// Loaded once per process (each TEST_CASE is its own CTest process, so at
// most once per case): ~1 s for 100 MB of weights.
const Tensor& input01() {
  static const Tensor t = read_tensor(golden_cases(), "input_01");  // [3,3,224,224]
  return t;
}

Mask masks_of_kind(int kind) { return lmask::testing::golden_masks(golden_cases(), kind); }
Tensor expected_of_kind(const std::string& method, int kind) {
  return lmask::testing::golden_expected(golden_cases(), method, kind);
}

bool all_finite(const Tensor& t) {
  return std::all_of(t.data(), t.data() + t.numel(), [](float v) { return std::isfinite(v); });
}

// Every kind of the golden masks through one input method, against the
// golden logits the authors' PyTorch code computed for it.
void check_input_golden(const std::string& method, const std::string& dataset) {
  const auto m = make_masking_method(method);
  for (int kind = 0; kind < 6; ++kind) {
    const std::string kind_name = lmask::testing::golden_mask_kinds()[kind];
    CAPTURE(method);
    CAPTURE(kind_name);
    const Tensor logits = m->logits(golden_model(), input01(), masks_of_kind(kind));
    REQUIRE(logits.shape() == Shape{3, 1000, 1, 1});
    const float diff = max_abs_diff(logits, expected_of_kind(dataset, kind));
    MESSAGE(method << " " << kind_name << ": max |diff| = " << diff);
    CHECK(all_finite(logits));
    CHECK(diff <= kLogitTol);
  }
}

// out = img * m + fill(n, c, y, x) * (1 - m), in double, the spec's shape of
// every input method.
template <class Fill>
Tensor composite_naive(const Tensor& img, const Mask& m, Fill fill) {
  Tensor out(img.shape());
  for (int n = 0; n < img.n(); ++n)
    for (int c = 0; c < img.c(); ++c)
      for (int y = 0; y < img.h(); ++y)
        for (int x = 0; x < img.w(); ++x) {
          const double mv = m.tensor().at(n, 0, y, x);
          out.at(n, c, y, x) = float(double(img.at(n, c, y, x)) * mv + fill(n, c, y, x) * (1.0 - mv));
        }
  return out;
}

// torchvision's gaussian_blur(kernel 5, sigma 1), written as a direct 2-D
// convolution: weights exp(-(dx^2 + dy^2) / 2) normalised to sum 1 (the outer
// product of torchvision's normalised 1-D kernels), and "reflect" padding as
// torch.nn.functional.pad does it: mirrored about the edge pixel, which is
// not repeated (-1 -> 1, -2 -> 2, n -> n-2, n+1 -> n-3). Needs sides >= 3.
Tensor blur_naive(const Tensor& img) {
  double k[5][5], total = 0.0;
  for (int dy = -2; dy <= 2; ++dy)
    for (int dx = -2; dx <= 2; ++dx) total += k[dy + 2][dx + 2] = std::exp(-(dx * dx + dy * dy) / 2.0);
  auto reflect = [](int i, int n) { return i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i; };
  Tensor out(img.shape());
  for (int n = 0; n < img.n(); ++n)
    for (int c = 0; c < img.c(); ++c)
      for (int y = 0; y < img.h(); ++y)
        for (int x = 0; x < img.w(); ++x) {
          double s = 0.0;
          for (int dy = -2; dy <= 2; ++dy)
            for (int dx = -2; dx <= 2; ++dx)
              s += k[dy + 2][dx + 2] / total *
                   img.at(n, c, reflect(y + dy, img.h()), reflect(x + dx, img.w()));
          out.at(n, c, y, x) = float(s);
        }
  return out;
}

}  // namespace

TEST_CASE("masking: greyout matches expected/greyout for every mask kind") {
  check_input_golden("grey", "greyout");
}

TEST_CASE("masking: blackout matches expected/blackout for every mask kind") {
  check_input_golden("black", "blackout");
}

TEST_CASE("masking: the layer method matches expected/layer (patch30, sanity)") {
  // The full layer golden lives in test_golden_layer.cpp; this checks that
  // the method normalises input_01 with the weights' mean/std first.
  const auto& meta = golden_model().meta();
  CHECK(meta.mean == std::vector<float>{0.485f, 0.456f, 0.406f});
  CHECK(meta.std == std::vector<float>{0.229f, 0.224f, 0.225f});
  const Tensor logits = make_masking_method("layer")->logits(golden_model(), input01(), masks_of_kind(kPatch30));
  const float diff = max_abs_diff(logits, expected_of_kind("layer", kPatch30));
  MESSAGE("layer patch30: max |diff| = " << diff);
  CHECK(diff <= kLogitTol);
}

TEST_CASE("masking: each input method shows its formula from LAYER_MASKING.md") {
  // A small random image batch with a different mask per image, including
  // an all-visible and an all-removed image; sides >= 3 for the reflection.
  const int n = 4, h = 9, w = 11;
  const Tensor img = random_tensor({n, 3, h, w}, 4242, 0.f, 1.f);
  Tensor mt = random_mask(n, h, w, 0.5, 4243).tensor().clone();
  std::fill(mt.image(2), mt.image(2) + h * w, 1.f);
  std::fill(mt.image(3), mt.image(3) + h * w, 0.f);
  const Mask m(mt);
  const double mean[3] = {0.485, 0.456, 0.406};  // the golden weights' ImageNet mean
  auto shown = [&](const std::string& name) { return make_masking_method(name)->shown(golden_model(), img, m); };
  auto check_close = [](const Tensor& got, const Tensor& want, const std::string& what) {
    CAPTURE(what);
    REQUIRE(got.shape() == want.shape());
    const float diff = max_abs_diff(got, want);
    CAPTURE(diff);
    CHECK(all_finite(got));
    CHECK(diff <= 1e-6f);
  };

  check_close(shown("black"), composite_naive(img, m, [](int, int, int, int) { return 0.0; }), "black: img*m");
  check_close(shown("grey"), composite_naive(img, m, [&](int, int c, int, int) { return mean[c]; }),
              "grey: img*m + mean*r");
  const Tensor red = composite_naive(img, m, [](int, int c, int, int) { return c == 0 ? 1.0 : 0.0; });
  check_close(shown("colour:255,0,0"), red, "colour:255,0,0");
  check_close(shown("colour:1,0,0"), red, "colour:1,0,0");
  CHECK(max_abs_diff(shown("colour:255,0,0"), shown("colour:1,0,0")) == 0.f);
  check_close(shown("color:255,0,0"), red, "color: spelling");
  check_close(shown("colour:0,128,255"),
              composite_naive(img, m, [](int, int c, int, int) { return c == 0 ? 0.0 : c == 1 ? 128 / 255.0 : 1.0; }),
              "colour:0,128,255 (bytes)");
  check_close(shown("colour:0.25,0.5,0.75"),
              composite_naive(img, m, [](int, int c, int, int) { return 0.25 * (c + 1); }), "colour fractions");

  // mean: per-image channel mean over the WHOLE image (removed pixels too).
  std::vector<double> channel_mean(n * 3, 0.0);
  for (int i = 0; i < n; ++i)
    for (int c = 0; c < 3; ++c) {
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) channel_mean[i * 3 + c] += img.at(i, c, y, x);
      channel_mean[i * 3 + c] /= double(h * w);
    }
  check_close(shown("mean"), composite_naive(img, m, [&](int i, int c, int, int) { return channel_mean[i * 3 + c]; }),
              "mean: img*m + meanHW(img)*r");

  // blur and grey-smooth against the independent Gaussian.
  const Tensor blurred = blur_naive(img);
  check_close(shown("blur"), composite_naive(img, m, [&](int i, int c, int y, int x) { return blurred.at(i, c, y, x); }),
              "blur: img*m + G(img)*r");
  const Tensor grey = composite_naive(img, m, [&](int, int c, int, int) { return mean[c]; });
  const Tensor grey_blurred = blur_naive(grey);
  check_close(shown("grey-smooth"),
              composite_naive(grey, m, [&](int i, int c, int y, int x) { return grey_blurred.at(i, c, y, x); }),
              "grey-smooth: g*m + G(g)*r");

  // The all-visible image is shown as it is by every method, layer included.
  for (const std::string name :
       {"black", "grey", "colour:255,0,0", "mean", "blur", "grey-smooth", "layer", "layer-renorm"}) {
    CAPTURE(name);
    const Tensor s = shown(name);
    CHECK(std::equal(s.image(2), s.image(2) + 3 * h * w, img.image(2)));
    // Visible pixels of image 0 are untouched too.
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
          if (m.tensor().at(0, 0, y, x) == 1.f && s.at(0, c, y, x) != img.at(0, c, y, x)) {
            CAPTURE(c); CAPTURE(y); CAPTURE(x);
            FAIL_CHECK("a visible pixel was changed");
          }
  }
}

TEST_CASE("masking: gaussian_blur5 against an independent 5x5 Gaussian, constants stay constant") {
  struct Size { int n, c, h, w; };
  const Size sizes[] = {{1, 3, 9, 11}, {2, 3, 3, 3}, {1, 1, 3, 17}, {1, 2, 16, 5}, {1, 3, 224, 224}};
  for (const Size& s : sizes) {
    INFO("n=" << s.n << " c=" << s.c << " h=" << s.h << " w=" << s.w);
    const Tensor img = random_tensor({s.n, s.c, s.h, s.w}, 55, 0.f, 1.f);
    const float diff = max_abs_diff(gaussian_blur5(img), blur_naive(img));
    CAPTURE(diff);
    CHECK(diff <= 1e-6f);
    for (float v : {0.f, 0.3f, 1.f}) {
      CAPTURE(v);
      const Tensor flat = gaussian_blur5(Tensor::filled({s.n, s.c, s.h, s.w}, v));
      CHECK(max_abs_diff(flat, Tensor::filled(flat.shape(), v)) <= 1e-6f);
    }
  }
  // A single bright pixel at the corner: reflection mirrors it about the
  // edge, so the corner receives k0*k0 + the mirrored taps; the oracle agrees.
  Tensor dot({1, 1, 7, 7});
  dot.at(0, 0, 0, 0) = 1.f;
  CHECK(max_abs_diff(gaussian_blur5(dot), blur_naive(dot)) <= 1e-7f);
}

TEST_CASE("masking: method names: every listed one constructs, unknown ones throw InputError listing them") {
  const std::vector<std::string> names = masking_method_names();
  for (const std::string& name : names) {
    CAPTURE(name);
    if (name == "colour:R,G,B") continue;  // a template, not a name
    const auto m = make_masking_method(name);
    REQUIRE(m != nullptr);
    CHECK(m->name() == name);
  }
  for (const std::string bad : {"", "Grey", "gray", "layer2", "blackout", "colour", "colours:1,0,0"}) {
    CAPTURE(bad);
    try {
      make_masking_method(bad);
      FAIL_CHECK("no error");
    } catch (const InputError& e) {
      const std::string what = e.what();
      CAPTURE(what);
      CHECK(what.find('\n') == std::string::npos);
      for (const std::string& known : names) CHECK(what.find(known) != std::string::npos);
    }
  }
  // Malformed colours are InputErrors too.
  for (const std::string bad : {"colour:1,0", "colour:a,b,c", "colour:1,0,0,0", "colour:300,0,0", "colour:-1,0,0"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(make_masking_method(bad), InputError);
  }
}

TEST_CASE("masking: layer-renorm on the golden net: finite, different from layer, fc.bias when all removed") {
  const auto renorm = make_masking_method("layer-renorm");
  const auto layer = make_masking_method("layer");
  // patch30: finite logits that differ from layer masking's (no fill, and
  // a rescaled border): the two are different algorithms.
  const Tensor r = renorm->logits(golden_model(), input01(), masks_of_kind(kPatch30));
  const Tensor l = layer->logits(golden_model(), input01(), masks_of_kind(kPatch30));
  CHECK(all_finite(r));
  const float diff = max_abs_diff(r, l);
  MESSAGE("layer-renorm vs layer on patch30: max |diff| = " << diff << " (max |logit|: renorm "
                                                          << max_abs(r) << ", layer " << max_abs(l) << ")");
  CHECK(diff > 1e-2f);
  // All removed: nothing is visible after any conv, the pool gives 0 and the
  // logits are fc.bias, as for layer masking.
  const Tensor none = renorm->logits(golden_model(), input01(), masks_of_kind(kAllRemoved));
  CHECK(max_abs_diff(none, expected_of_kind("layer", kAllRemoved)) <= 1e-5f);
  // All visible: finite (only the border rescaling differs from clean).
  CHECK(all_finite(renorm->logits(golden_model(), input01().batch(0, 1), masks_of_kind(kAllVisible).batch(0, 1))));
}

TEST_CASE("masking: a batch of 3 images with 3 masks equals each image alone (layer, grey)") {
  // A different mask kind per image, so a mix-up between images shows.
  Tensor mt({3, 1, 224, 224});
  const int kinds[3] = {kPatch30, kDisk, kPatch50px8};
  for (int i = 0; i < 3; ++i) {
    const Mask k = masks_of_kind(kinds[i]);
    std::copy(k.image(i), k.image(i) + 224 * 224, mt.image(i));
  }
  const Mask m(mt);
  for (const std::string name : {"layer", "grey"}) {
    CAPTURE(name);
    const auto method = make_masking_method(name);
    const Tensor batch = method->logits(golden_model(), input01(), m);
    REQUIRE(batch.shape() == Shape{3, 1000, 1, 1});
    for (int i = 0; i < 3; ++i) {
      CAPTURE(i);
      const Tensor alone = method->logits(golden_model(), input01().batch(i, 1), m.batch(i, 1));
      const float diff = max_abs_diff(alone, batch.batch(i, 1).clone());
      CAPTURE(diff);
      CHECK(diff <= 1e-4f);
    }
  }
}
