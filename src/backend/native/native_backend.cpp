// native_backend.cpp — the reference backend: the graph forwards of
// graph_forward.h on the native ops (im2col + OpenBLAS SGEMM and plain
// loops, src/ops). It compiles nothing and keeps nothing per shape; it is
// what every other backend is tested against.
#include "backends.h"
#include "lmask/graph_forward.h"
#include "lmask/graph_passes.h"

namespace lmask::backends {

namespace {

class NativeGraphBackend final : public Backend {
 public:
  explicit NativeGraphBackend(const Graph& graph) : graph_(fuse_epilogues(without_identities(graph))) {}
  std::string name() const override { return "native"; }
  Tensor forward(const Tensor& x) override { return run_graph(graph_, x); }
  Tensor features(const Tensor& x) override { return run_graph(graph_, x, features_node()); }
  Tensor forward_masked(const Tensor& x, const Mask& m, const LayerMaskingOptions& opt) override {
    return run_graph_masked(graph_, x, m, opt).x;
  }
  Tensor features_masked(const Tensor& x, const Mask& m, const LayerMaskingOptions& opt) override {
    return run_graph_masked(graph_, x, m, opt, features_node()).x;
  }

 private:
  int features_node() const {
    if (graph_.features < 0) throw std::logic_error("native: this graph marks no features");
    return graph_.features;
  }
  Graph graph_;
};

}  // namespace

std::unique_ptr<Backend> make_native_graph(const Graph& graph) { return std::make_unique<NativeGraphBackend>(graph); }

}  // namespace lmask::backends
