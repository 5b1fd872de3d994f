// cuda_backend.cpp — the CUDA backend: a network's LayerGraph run by CudaNet on
// one GPU behind the Backend interface, clean and layer-masked forwards.
// Made only where a device is visible (the registry asks cuda_device.h first).
#include <stdexcept>

#include "../backends.h"
#include "lmask/graph_passes.h"
#include "cuda_net.h"

namespace lmask::backends {

namespace {

class CudaBackend final : public Backend {
 public:
  CudaBackend(LayerGraph graph, bool from_resnet) : net_(std::move(graph)), from_resnet_(from_resnet) {}
  std::string name() const override { return "cuda"; }
  Tensor forward(const Tensor& x) override { return net_.run(x, net_.graph().output()); }
  Tensor features(const Tensor& x) override { return net_.run(x, features_index()); }
  Tensor forward_masked(const Tensor& x, const Mask& m, const LayerMaskingOptions& opt) override {
    check_masks_known();
    return net_.run_masked(x, m, opt, net_.graph().output());
  }
  Tensor features_masked(const Tensor& x, const Mask& m, const LayerMaskingOptions& opt) override {
    check_masks_known();
    return net_.run_masked(x, m, opt, features_index());
  }

 private:
  int features_index() const {
    if (net_.graph().features < 0) throw std::logic_error("cuda: this graph marks no features");
    return net_.graph().features;
  }
  // Masks travel by the ResNet rules (the residual join above all), which a
  // bare LayerGraph does not promise.
  void check_masks_known() const {
    if (!from_resnet_) throw std::logic_error("cuda: a backend made from a LayerGraph has no masked forward");
  }

  cuda::CudaNet net_;
  bool from_resnet_;
};

// A backend made from a Graph: its clean and masked forwards on the GPU, for
// the nodes cuda_net.cpp and cuda_masked.cpp have (lower_to_layers).
class CudaGraphBackend final : public Backend {
 public:
  explicit CudaGraphBackend(const Graph& graph)
      : graph_(fuse_epilogues(without_identities(graph))), net_(lower_to_layers(graph_, "cuda")) {}
  std::string name() const override { return "cuda"; }
  Tensor forward(const Tensor& x) override { return net_.run(x, graph_.output); }
  Tensor features(const Tensor& x) override {
    if (graph_.features < 0) throw std::logic_error("cuda: this graph marks no features");
    return net_.run(x, graph_.features);
  }
  Tensor forward_masked(const Tensor& x, const Mask& m, const LayerMaskingOptions& opt) override {
    return net_.run_masked(x, m, opt, graph_.output);
  }
  Tensor features_masked(const Tensor& x, const Mask& m, const LayerMaskingOptions& opt) override {
    if (graph_.features < 0) throw std::logic_error("cuda: this graph marks no features");
    return net_.run_masked(x, m, opt, graph_.features);
  }

 private:
  Graph graph_;  // before net_, whose layers point into it
  cuda::CudaNet net_;
};

}  // namespace

std::unique_ptr<Backend> make_cuda_from_graph(const Graph& graph) {
  return std::make_unique<CudaGraphBackend>(graph);
}

std::unique_ptr<Backend> make_cuda_graph(const LayerGraph& graph) {
  return std::make_unique<CudaBackend>(graph, false);
}

}  // namespace lmask::backends
