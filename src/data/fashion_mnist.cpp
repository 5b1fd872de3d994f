// fashion_mnist.cpp — Fashion-MNIST (Xiao et al. 2017) from its idx files:
// 28x28 grey clothing images, 10 classes. Each image is replicated to RGB and
// goes through the model's Resize + CenterCrop with Pillow's bilinear filter,
// which is exactly what tools/train_fashion_mnist.py trained on. The object
// mask is the foreground, pixel > 0.1 in [0,1] (shared/spec/EXPERIMENTS.md),
// taken through the same geometry with nearest-neighbour sampling.
#include <string>
#include <vector>

#include "lmask/error.h"
#include "lmask/image.h"
#include "lmask/mask_builders.h"
#include "sources.h"

namespace lmask::data {

namespace {

// pixel / 255 > 0.1  <=>  pixel > 25.5  <=>  pixel >= 26.
constexpr std::uint8_t kForegroundMin = 26;

const std::vector<std::string> kClassNames = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                              "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

class FashionMnist final : public Dataset {
 public:
  FashionMnist(const std::string& dir, const std::string& split, const Weights& meta)
      : split_(split), resize_(meta.resize_size), crop_(meta.input_size) {
    const std::string prefix = dir + "/" + (split == "train" ? "train" : "t10k");
    const std::string images_path = prefix + "-images-idx3-ubyte.gz";
    const std::string labels_path = prefix + "-labels-idx1-ubyte.gz";
    images_ = read_idx(images_path);
    labels_ = read_idx(labels_path);
    if (images_.dims.size() != 3) throw InputError(images_path, "expected a 3-D idx array of images");
    if (labels_.dims.size() != 1) throw InputError(labels_path, "expected a 1-D idx array of labels");
    if (images_.dims[0] != labels_.dims[0])
      throw InputError(labels_path, std::to_string(labels_.dims[0]) + " labels for " +
                                        std::to_string(images_.dims[0]) + " images");
    if (images_.dims[0] == 0) throw InputError(images_path, "holds no images");
    if (images_.dims[1] == 0 || images_.dims[2] == 0) throw InputError(images_path, "images of size 0");
    // read_idx bounds the product, so each side fits an int; the picture must
    // also stay within the limit every decoded image obeys.
    if (static_cast<unsigned long long>(images_.dims[1]) * images_.dims[2] > kMaxImagePixels)
      throw InputError(images_path, "images of " + std::to_string(images_.dims[2]) + "x" +
                                        std::to_string(images_.dims[1]) + " pixels exceed the limit of " +
                                        std::to_string(kMaxImagePixels));
    for (std::size_t i = 0; i < labels_.values.size(); ++i)
      if (labels_.values[i] >= kClassNames.size())
        throw InputError(labels_path, "label " + std::to_string(labels_.values[i]) + " of item " +
                                          std::to_string(i) + " is not a class 0..9");
    names_ = meta.class_names.size() == kClassNames.size() ? meta.class_names : kClassNames;
  }

  std::size_t size() const override { return labels_.values.size(); }
  const std::vector<std::string>& class_names() const override { return names_; }
  std::string description() const override { return "fmnist:" + split_; }

  Sample get(std::size_t index) const override {
    const int h = static_cast<int>(images_.dims[1]), w = static_cast<int>(images_.dims[2]);
    const std::uint8_t* grey = images_.values.data() + index * static_cast<std::size_t>(h) * w;
    ImageU8 rgb(w, h), foreground(w, h);
    for (int i = 0; i < h * w; ++i) {
      rgb.rgb[3 * i] = rgb.rgb[3 * i + 1] = rgb.rgb[3 * i + 2] = grey[i];
      foreground.rgb[3 * i] = grey[i] >= kForegroundMin;
    }
    Sample s;
    s.name = description() + "#" + std::to_string(index);
    s.image01 = preprocess_01(rgb, resize_, crop_, s.name);
    s.label = labels_.values[index];
    s.object = mask_from_image(foreground, resize_, crop_, /*invert=*/false, s.name);
    return s;
  }

 private:
  std::string split_;
  int resize_, crop_;
  IdxArray images_, labels_;
  std::vector<std::string> names_;
};

}  // namespace

std::unique_ptr<Dataset> open_fashion_mnist(const std::string& dir, const std::string& split,
                                            const Weights& meta) {
  if (split != "train" && split != "test")
    throw InputError("fmnist:" + split, "unknown split (expected fmnist:train or fmnist:test)");
  return std::make_unique<FashionMnist>(dir, split, meta);
}

}  // namespace lmask::data
