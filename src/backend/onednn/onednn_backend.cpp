// onednn_backend.cpp — the oneDNN CPU backend: a network's Graph compiled by
// OnednnNet, behind the Backend interface. The layer-masked forward is the
// native one (masks, fill, gathers on plain memory) with every conv's GEMM
// on oneDNN's SGEMM.
#include "../backends.h"
#include "lmask/resnet.h"
#include "onednn_gemm.h"
#include "onednn_net.h"

namespace lmask::backends {

namespace {

class OnednnBackend final : public Backend {
 public:
  OnednnBackend(Graph graph, const ResNet* resnet) : net_(std::move(graph)), resnet_(resnet) {}
  std::string name() const override { return "onednn"; }
  Tensor forward(const Tensor& x) override { return net_.run(x, net_.graph().output()); }
  Tensor features(const Tensor& x) override {
    if (net_.graph().features < 0) throw std::logic_error("onednn: this graph marks no features");
    return net_.run(x, net_.graph().features);
  }
  Tensor forward_masked(const Tensor& x, const Mask& m, const LayerMaskingOptions& opt) override {
    return masked_source().forward_masked(x, m, on_onednn(opt));
  }
  Tensor features_masked(const Tensor& x, const Mask& m, const LayerMaskingOptions& opt) override {
    return masked_source().features_masked(x, m, on_onednn(opt));
  }

 private:
  static LayerMaskingOptions on_onednn(LayerMaskingOptions opt) {
    opt.gemm = onednn::onednn_sgemm;
    return opt;
  }
  const ResNet& masked_source() const {
    if (!resnet_) throw std::logic_error("onednn: a backend made from a Graph has no masked forward");
    return *resnet_;
  }

  onednn::OnednnNet net_;
  const ResNet* resnet_;  // nullptr when made from a bare Graph
};

}  // namespace

std::unique_ptr<Backend> make_onednn(const ResNet& net) {
  return std::make_unique<OnednnBackend>(resnet_graph(net), &net);
}

std::unique_ptr<Backend> make_onednn_graph(const Graph& graph) {
  return std::make_unique<OnednnBackend>(graph, nullptr);
}

}  // namespace lmask::backends
