// masking.h — every way of removing part of an image behind one interface, so
// that the studies loop over methods: input masking (paint the removed region
// in pixel space, then run the plain network) and layer masking (run the
// masked network). Definitions: shared/spec/LAYER_MASKING.md.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "lmask/mask.h"
#include "lmask/model.h"
#include "lmask/segmentation.h"

namespace lmask {

class MaskingMethod {
 public:
  virtual ~MaskingMethod() = default;
  virtual std::string name() const = 0;

  // img01 [N,3,H,W] in [0,1], m [N,1,H,W] -> penultimate features [N,F,1,1],
  // on the model's backend (none: native).
  virtual Tensor features(const Model& model, const Tensor& img01, const Mask& m) const = 0;
  // -> logits [N,classes,1,1].
  Tensor logits(const Model& model, const Tensor& img01, const Mask& m) const {
    return model.classify(features(model, img01, m));
  }
  // What the model is shown, in [0,1] pixel space [N,3,H,W], for pictures.
  // Layer masking shows the visible pixels over a hatched removed region.
  virtual Tensor shown(const Model& model, const Tensor& img01, const Mask& m) const = 0;
};

// The plain network on img01 [N,3,H,W] in [0,1], nothing removed: the
// model's own normalisation (its mean/std), then its forward -> logits
// [N,classes,1,1], or the pooled features [N,F,1,1]. What every masking
// method is compared with. The logits are checked finite
// (finite_logits.h: InputError naming the weights), never a nan in a
// published number.
Tensor clean_logits(const Model& model, const Tensor& img01);
Tensor clean_features(const Model& model, const Tensor& img01);

// "black", "grey", "colour:R,G,B" (0..255 or 0..1), "mean", "blur",
// "grey-smooth", "layer", "layer-renorm", "layer-dense" (the dense
// execution, for comparisons). Unknown names throw InputError listing them;
// "segment-mean" throws InputError too: it needs segments (below).
std::unique_ptr<MaskingMethod> make_masking_method(const std::string& name);
std::vector<std::string> masking_method_names();

// "segment-mean", LIME's default hide_color=None: every removed pixel takes
// the mean colour of its whole segment in img01 (so a removed segment becomes
// one flat patch of its own mean), then the plain network. It exists only
// where segments do; every image of a batch is cut by the same `segments`
// (LIME perturbs one image at a time), whose size must match the images'.
std::unique_ptr<MaskingMethod> make_segment_mean_method(Segmentation segments);
// img01 [N,3,H,W] -> [N,3,H,W]: each pixel replaced by its segment's per-channel mean.
Tensor segment_mean_image(const Tensor& img01, const Segmentation& segments);

// Pixel-space operations the input methods are built from, exposed for tests.
// img [N,3,H,W]; G is a 5x5 Gaussian (sigma 1) with reflect padding
// (torchvision's gaussian_blur: mirrored without repeating the edge).
Tensor gaussian_blur5(const Tensor& img);
// out = img * m + fill * (1 - m), fill [N,3,H,W] or broadcast [1,3,1,1].
Tensor composite(const Tensor& img, const Mask& m, const Tensor& fill);

}  // namespace lmask
