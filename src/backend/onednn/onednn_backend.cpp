// onednn_backend.cpp — the oneDNN CPU backend: a network's Graph compiled by
// OnednnNet, behind the Backend interface. Clean forwards only (backend.h).
#include "../backends.h"
#include "lmask/resnet.h"
#include "onednn_net.h"

namespace lmask::backends {

namespace {

class OnednnBackend final : public Backend {
 public:
  explicit OnednnBackend(Graph graph) : net_(std::move(graph)) {}
  std::string name() const override { return "onednn"; }
  Tensor forward(const Tensor& x) override { return net_.run(x, net_.graph().output()); }
  Tensor features(const Tensor& x) override {
    if (net_.graph().features < 0) throw std::logic_error("onednn: this graph marks no features");
    return net_.run(x, net_.graph().features);
  }

 private:
  onednn::OnednnNet net_;
};

}  // namespace

std::unique_ptr<Backend> make_onednn(const ResNet& net) {
  return std::make_unique<OnednnBackend>(resnet_graph(net));
}

std::unique_ptr<Backend> make_onednn_graph(const Graph& graph) {
  return std::make_unique<OnednnBackend>(graph);
}

}  // namespace lmask::backends
