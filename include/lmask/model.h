// model.h — a loaded network and the backend that runs it, as the masking
// methods see it. Clean and layer-masked forwards go to the backend when
// there is one, to the ResNet's own (native) code otherwise; the fc layer
// and the preprocessing always come from the ResNet. A bare ResNet converts
// to a Model that runs natively, which is what the studies use: their CSVs
// are tested byte-identical across thread counts on native code only.
#pragma once

#include "lmask/backend.h"
#include "lmask/resnet.h"

namespace lmask {

class Model {
 public:
  Model(const ResNet& net, Backend* backend = nullptr) : net_(net), backend_(backend) {}  // NOLINT: implicit on purpose

  const ResNet& net() const { return net_; }
  const Weights& meta() const { return net_.meta(); }
  // x [N,3,H,W] normalised -> pooled features [N,F,1,1].
  Tensor features(const Tensor& x) const { return backend_ ? backend_->features(x) : net_.features(x); }
  Tensor features_masked(const Tensor& x, const Mask& m, const LayerMaskingOptions& options) const {
    return backend_ ? backend_->features_masked(x, m, options) : net_.features_masked(x, m, options);
  }
  Tensor classify(const Tensor& features) const { return net_.classify(features); }

 private:
  const ResNet& net_;
  Backend* backend_;  // not owned; nullptr: native
};

}  // namespace lmask
