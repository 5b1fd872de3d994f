// cuda_backend.cpp — the CUDA backend: a fused graph run by CudaNet on one
// GPU behind the Backend interface, clean and layer-masked forwards, for a
// bare graph and for a ResNet alike. Made only where a device is visible
// (the registry asks cuda_device.h first).
#include <stdexcept>

#include "backends.h"
#include "cuda_net.h"
#include "lmask/graph_passes.h"

namespace lmask::backends {

namespace {

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(Graph fused) : net_(std::move(fused)) {}
  std::string name() const override { return "cuda"; }
  Tensor forward(const Tensor& x) override { return net_.run(x, net_.graph().output); }
  Tensor features(const Tensor& x) override { return net_.run(x, features_node()); }
  Tensor forward_masked(const Tensor& x, const Mask& m, const LayerMaskingOptions& opt) override {
    return net_.run_masked(x, m, opt, net_.graph().output);
  }
  Tensor features_masked(const Tensor& x, const Mask& m, const LayerMaskingOptions& opt) override {
    return net_.run_masked(x, m, opt, features_node());
  }

 private:
  int features_node() const {
    if (net_.graph().features < 0) throw std::logic_error("cuda: this graph marks no features");
    return net_.graph().features;
  }

  cuda::CudaNet net_;
};

}  // namespace

std::unique_ptr<Backend> make_cuda_from_graph(const Graph& graph) {
  return std::make_unique<CudaBackend>(fuse_epilogues(without_identities(graph)));
}


}  // namespace lmask::backends
