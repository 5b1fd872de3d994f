// onednn_backend.cpp — the oneDNN CPU backend: a network's graph compiled by
// OnednnNet, behind the Backend interface. The layer-masked forward runs the
// stem natively, then the bottleneck blocks on visible rows (masked_rows.h)
// with oneDNN's SGEMM on the weights the clean forward's convolutions hold.
// Anything else (dense execution, basic blocks) is the native masked forward
// with its GEMMs on oneDNN's SGEMM.
#include <array>
#include <memory>
#include <vector>

#include "../backends.h"
#include "lmask/error.h"
#include "lmask/graph_forward.h"
#include "lmask/graph_passes.h"
#include "lmask/masked_rows.h"
#include "lmask/resnet.h"
#include "onednn_gemm.h"
#include "onednn_net.h"

namespace lmask::backends {

namespace {

class OnednnBackend final : public Backend {
 public:
  explicit OnednnBackend(const ResNet& resnet) : net_(folded_graph(resnet)), resnet_(&resnet) {}
  std::string name() const override { return "onednn"; }
  Tensor forward(const Tensor& x) override { return net_.run(x, net_.graph().output); }
  Tensor features(const Tensor& x) override {
    if (net_.graph().features < 0) throw std::logic_error("onednn: this graph marks no features");
    return net_.run(x, net_.graph().features);
  }
  Tensor forward_masked(const Tensor& x, const Mask& m, const LayerMaskingOptions& opt) override {
    return masked_source().classify(features_masked(x, m, opt));
  }
  Tensor features_masked(const Tensor& x, const Mask& m, const LayerMaskingOptions& opt) override {
    const ResNet& net = masked_source();
    const LayerMaskingOptions on_onednn = with_onednn_gemm(opt);
    // The spec: an all-visible mask gives exactly the unmasked forward (no
    // fill has anything to do), which oneDNN's direct convolutions run
    // fastest. Not under renorm, where zero padding counts as removed.
    if (m.all_visible() && opt.fill != Fill::renorm) return features(x);
    if (opt.execution != Execution::active || !all_blocks_on_rows())
      return native_network().features_masked(x, m, on_onednn);
    VisibleRows a = VisibleRows::from(net.masked_stem(x, m, on_onednn));
    const std::vector<Block>& blocks = net.blocks();
    for (std::size_t b = 0; b < blocks.size(); ++b)
      a = masked_bottleneck_rows(a, blocks[b], rows_weights(b, x.shape()).data(), opt.fill, onednn::onednn_sgemm);
    return masked_avgpool_rows(a);
  }
  bool holds_weights() const override { return true; }

 private:
  // The masked rows read the blocks' folded weights and biases.
  static Graph folded_graph(const ResNet& net) {
    if (!net.stem().bn.empty())
      throw InputError("backend", "needs the BatchNorm folded into the convs (load with fold_bn = true)");
    return fuse_epilogues(net.graph());
  }
  static LayerMaskingOptions with_onednn_gemm(LayerMaskingOptions opt) {
    opt.gemm = onednn::onednn_sgemm;
    return opt;
  }
  const ResNet& masked_source() const { return *resnet_; }
  bool all_blocks_on_rows() const {
    for (const Block& b : resnet_->blocks())
      if (!rows_supported(b)) return false;
    return true;
  }
  // Block b's conv1, conv2, conv3, downsample weights in a GEMM layout: the
  // clean forward's own at this input shape when they are of that form.
  const std::array<RowWeights, 4>& rows_weights(std::size_t b, const Shape& in) {
    if (rows_weights_.empty()) {
      auto view = [&](const ConvBN& conv) { return net_.gemm_weights(graph_layer(conv), in); };
      for (const Block& block : resnet_->blocks()) {
        std::array<RowWeights, 4> w{};
        for (std::size_t i = 0; i < block.convs.size(); ++i) w[i] = view(block.convs[i]);
        if (block.has_downsample) w[3] = view(block.downsample);
        rows_weights_.push_back(w);
      }
    }
    return rows_weights_[b];
  }
  // The graph node made from this conv: the one of its name.
  int graph_layer(const ConvBN& conv) const {
    const std::vector<Node>& nodes = net_.graph().nodes;
    for (std::size_t i = 0; i < nodes.size(); ++i)
      if (nodes[i].op == Op::conv2d && nodes[i].name == conv.name) return static_cast<int>(i);
    throw std::logic_error("onednn: ResNet conv '" + conv.name + "' is missing from its graph");
  }
  // The ResNet itself, or once its block weights are released to this
  // backend, a copy rebuilt from the weights held here (made once).
  const ResNet& native_network() {
    if (!resnet_->block_weights_released()) return *resnet_;
    if (!rebuilt_)
      rebuilt_ = std::make_unique<ResNet>(
          resnet_->with_block_weights([this](const ConvBN& c) { return net_.plain_weights_copy(graph_layer(c)); }));
    return *rebuilt_;
  }

  onednn::OnednnNet net_;
  const ResNet* resnet_;
  std::vector<std::array<RowWeights, 4>> rows_weights_;  // per block, on first masked use
  std::unique_ptr<ResNet> rebuilt_;  // native_network()'s copy
};

// A backend made from a Graph: the clean forward compiled by OnednnNet, the
// masked forward the graph's native one with its GEMMs on oneDNN's SGEMM.
class OnednnGraphBackend final : public Backend {
 public:
  explicit OnednnGraphBackend(const Graph& graph)
      : graph_(fuse_epilogues(without_identities(graph))), net_(graph_) {}
  std::string name() const override { return "onednn"; }
  Tensor forward(const Tensor& x) override { return net_.run(x, graph_.output); }
  Tensor features(const Tensor& x) override { return net_.run(x, features_node()); }
  Tensor forward_masked(const Tensor& x, const Mask& m, const LayerMaskingOptions& opt) override {
    return run_graph_masked(graph_, x, m, on_onednn(opt)).x;
  }
  Tensor features_masked(const Tensor& x, const Mask& m, const LayerMaskingOptions& opt) override {
    return run_graph_masked(graph_, x, m, on_onednn(opt), features_node()).x;
  }

 private:
  static LayerMaskingOptions on_onednn(LayerMaskingOptions opt) {
    opt.gemm = onednn::onednn_sgemm;
    return opt;
  }
  int features_node() const {
    if (graph_.features < 0) throw std::logic_error("onednn: this graph marks no features");
    return graph_.features;
  }
  Graph graph_;  // for the masked forward; net_ holds its own copy
  onednn::OnednnNet net_;
};

}  // namespace

std::unique_ptr<Backend> make_onednn_from_graph(const Graph& graph) {
  return std::make_unique<OnednnGraphBackend>(graph);
}

std::unique_ptr<Backend> make_onednn(const ResNet& net) { return std::make_unique<OnednnBackend>(net); }

}  // namespace lmask::backends
