// native_backend.cpp — the reference backend: ResNet's own forward (im2col +
// OpenBLAS SGEMM and plain loops, src/ops). It compiles nothing and keeps
// nothing per shape; it is what every other backend is tested against.
#include "../backends.h"
#include "lmask/resnet.h"

namespace lmask::backends {

namespace {

class NativeBackend final : public Backend {
 public:
  explicit NativeBackend(const ResNet& net) : net_(net) {}
  std::string name() const override { return "native"; }
  Tensor forward(const Tensor& x) override { return net_.forward(x); }
  Tensor features(const Tensor& x) override { return net_.features(x); }
  Tensor forward_masked(const Tensor& x, const Mask& m, const LayerMaskingOptions& opt) override {
    return net_.forward_masked(x, m, opt);
  }
  Tensor features_masked(const Tensor& x, const Mask& m, const LayerMaskingOptions& opt) override {
    return net_.features_masked(x, m, opt);
  }

 private:
  const ResNet& net_;
};

}  // namespace

std::unique_ptr<Backend> make_native(const ResNet& net) { return std::make_unique<NativeBackend>(net); }

}  // namespace lmask::backends
