// masking_methods.cpp — the masking methods compared throughout lmask.
//
// Input methods paint the removed region r = 1 - m in [0,1] pixel space and
// run the plain network on the normalised result; layer methods run the
// masked network on (x * m, m). The "grey" of greyout is the model's own
// normalisation mean, so a greyed pixel normalises to exactly 0.
#include <algorithm>
#include <functional>
#include <sstream>

#include "lmask/error.h"
#include "lmask/finite_logits.h"
#include "lmask/image.h"
#include "lmask/masking.h"
#include "lmask/parse_number.h"

namespace lmask {

namespace {

Tensor normalized(const Tensor& img01, const Model& model) {
  Tensor x = img01.clone();
  normalize(x, model.meta().mean, model.meta().std);
  return x;
}

Tensor colour(float r, float g, float b) {
  Tensor c({1, 3, 1, 1});
  c.data()[0] = r, c.data()[1] = g, c.data()[2] = b;
  return c;
}

// Per-image channel means of img [N,3,H,W], broadcast back to [N,3,H,W].
Tensor image_mean(const Tensor& img) {
  Tensor out(img.shape());
  const std::size_t plane = img.shape().plane_size();
  for (int n = 0; n < img.n(); ++n)
    for (int c = 0; c < img.c(); ++c) {
      const float* v = img.image(n) + c * plane;
      double s = 0.0;
      for (std::size_t i = 0; i < plane; ++i) s += v[i];
      std::fill(out.image(n) + c * plane, out.image(n) + (c + 1) * plane, float(s / plane));
    }
  return out;
}

// Paints the removed region with whatever `paint(img01, m, model_mean)` returns.
class InputMasking : public MaskingMethod {
 public:
  using Paint = std::function<Tensor(const Tensor& img01, const Mask& m, const Tensor& model_mean)>;
  InputMasking(std::string name, Paint paint) : name_(std::move(name)), paint_(std::move(paint)) {}

  std::string name() const override { return name_; }
  Tensor features(const Model& model, const Tensor& img01, const Mask& m) const override {
    return model.features(normalized(shown(model, img01, m), model));
  }
  Tensor shown(const Model& model, const Tensor& img01, const Mask& m) const override {
    const auto& mean = model.meta().mean;
    return paint_(img01, m, colour(mean[0], mean[1], mean[2]));
  }

 private:
  std::string name_;
  Paint paint_;
};

class LayerMasking : public MaskingMethod {
 public:
  LayerMasking(std::string name, LayerMaskingOptions options) : name_(std::move(name)), options_(options) {}

  std::string name() const override { return name_; }
  Tensor features(const Model& model, const Tensor& img01, const Mask& m) const override {
    return model.features_masked(normalized(img01, model), m, options_);
  }
  // The visible pixels over a grey diagonal hatching: nothing of the removed
  // region reaches the network, and the picture should not suggest otherwise.
  Tensor shown(const Model&, const Tensor& img01, const Mask& m) const override {
    Tensor hatch(img01.shape());
    for (int n = 0; n < hatch.n(); ++n)
      for (int c = 0; c < hatch.c(); ++c)
        for (int y = 0; y < hatch.h(); ++y)
          for (int x = 0; x < hatch.w(); ++x) hatch.at(n, c, y, x) = ((x + y) / 4) % 2 ? 0.85f : 0.55f;
    return composite(img01, m, hatch);
  }

 private:
  std::string name_;
  LayerMaskingOptions options_;
};

std::unique_ptr<MaskingMethod> colour_method(const std::string& name, const std::string& spec) {
  std::stringstream ss(spec);
  std::vector<float> rgb;
  std::string part;
  // Exactly three parts, each wholly a number: "0.5abc" is not 0.5.
  bool numbers = std::count(spec.begin(), spec.end(), ',') == 2;
  while (std::getline(ss, part, ',')) {
    const auto v = strict_real(part, 0, 255);
    if (v) rgb.push_back(static_cast<float>(*v));
    numbers = numbers && v.has_value();
  }
  if (!numbers || rgb.size() != 3)
    throw InputError("--method", "'" + name + "': expected colour:R,G,B, each a number from 0 to 1 (or 0 to 255)");
  const bool bytes = rgb[0] > 1.f || rgb[1] > 1.f || rgb[2] > 1.f;  // 0..255 given
  if (bytes)
    for (float& v : rgb) v /= 255.f;
  const Tensor c = colour(rgb[0], rgb[1], rgb[2]);
  return std::make_unique<InputMasking>(
      name, [c](const Tensor& img, const Mask& m, const Tensor&) { return composite(img, m, c); });
}

}  // namespace

Tensor clean_logits(const Model& model, const Tensor& img01) {
  Tensor logits = model.forward(normalized(img01, model));
  require_finite_logits(logits, model.meta().path);
  return logits;
}
Tensor clean_features(const Model& model, const Tensor& img01) { return model.features(normalized(img01, model)); }

std::vector<std::string> masking_method_names() {
  return {"black", "grey", "colour:R,G,B", "mean", "blur", "grey-smooth", "layer", "layer-renorm", "layer-dense"};
}

std::unique_ptr<MaskingMethod> make_masking_method(const std::string& name) {
  using Img = const Tensor&;
  if (name == "black")
    return std::make_unique<InputMasking>(name, [](Img img, const Mask& m, Img) {
      return composite(img, m, colour(0.f, 0.f, 0.f));
    });
  if (name == "grey")
    return std::make_unique<InputMasking>(name, [](Img img, const Mask& m, Img mean) {
      return composite(img, m, mean);
    });
  if (name == "mean")
    return std::make_unique<InputMasking>(name, [](Img img, const Mask& m, Img) {
      return composite(img, m, image_mean(img));
    });
  if (name == "blur")
    return std::make_unique<InputMasking>(name, [](Img img, const Mask& m, Img) {
      return composite(img, m, gaussian_blur5(img));
    });
  if (name == "grey-smooth")
    return std::make_unique<InputMasking>(name, [](Img img, const Mask& m, Img mean) {
      const Tensor grey = composite(img, m, mean);
      return composite(grey, m, gaussian_blur5(grey));
    });
  if (name.rfind("colour:", 0) == 0 || name.rfind("color:", 0) == 0)
    return colour_method(name, name.substr(name.find(':') + 1));
  if (name == "layer") return std::make_unique<LayerMasking>(name, LayerMaskingOptions{});
  if (name == "layer-renorm")
    return std::make_unique<LayerMasking>(name, LayerMaskingOptions{Fill::renorm, Execution::active});
  if (name == "layer-dense")
    return std::make_unique<LayerMasking>(name, LayerMaskingOptions{Fill::neighbour_average, Execution::dense});
  if (name == "segment-mean")
    throw InputError("--method", "'segment-mean' fills each removed segment with its own mean colour, so it "
                                 "needs segments: only LIME (the lime study, lmask explain) offers it");
  std::string known;
  for (const auto& n : masking_method_names()) known += (known.empty() ? "" : ", ") + n;
  throw InputError("--method", "unknown masking method '" + name + "' (known: " + known + ")");
}

}  // namespace lmask
