// onednn_backend.cpp — the oneDNN CPU backend: a graph compiled by
// OnednnNet, behind the Backend interface. The layer-masked forward is the
// graph's own (graph_forward.h) with its GEMMs on oneDNN's SGEMM, except
// that under active execution the chain of bottlenecks ending at the pooled
// features (masked_rows.h: ResNet-50/101/152 from the stem on) runs on
// visible rows, with the weights the clean forward's convolutions hold.
#include <array>
#include <memory>
#include <vector>

#include "../backends.h"
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
  // `resnet`: the network `fused` came from, which may release its block
  // weights to this backend (holds_weights); nullptr: a bare graph, whose
  // weights the backend keeps for its masked forward.
  OnednnBackend(const Graph& fused, const ResNet* resnet)
      : net_(fused), resnet_(resnet), chain_(fused.features >= 0 ? bottleneck_chain(net_.graph(), input_of_features())
                                                                  : std::vector<RowsBlock>()) {
    if (!resnet) own_graph_ = std::make_unique<Graph>(fused);
    head_ = fused.nodes[fused.output];  // net_ keeps no plain copy of its weights
  }
  std::string name() const override { return "onednn"; }
  Tensor forward(const Tensor& x) override { return net_.run(x, net_.graph().output); }
  Tensor features(const Tensor& x) override { return net_.run(x, features_node()); }
  Tensor forward_masked(const Tensor& x, const Mask& m, const LayerMaskingOptions& opt) override {
    if (head_.op != Op::linear || head_.inputs[0] != net_.graph().features)
      return run_graph_masked(masked_graph(net_.graph().output), x, m, on_onednn(opt)).x;
    // The head after the features is one linear layer: the mask has ended.
    const Tensor f = features_masked(x, m, opt);
    Tensor logits({f.n(), head_.weight.n(), 1, 1});
    linear(logits, f, head_.weight, head_.bias);
    return logits;
  }
  Tensor features_masked(const Tensor& x, const Mask& m, const LayerMaskingOptions& opt) override {
    // The spec: an all-visible mask gives exactly the unmasked forward (no
    // fill has anything to do), which oneDNN's direct convolutions run
    // fastest. Not under renorm, where zero padding counts as removed.
    if (m.all_visible() && opt.fill != Fill::renorm) return features(x);
    if (opt.execution != Execution::active || chain_.empty())
      return run_graph_masked(masked_graph(features_node()), x, m, on_onednn(opt), features_node()).x;
    const int stem = chain_.front().input;
    VisibleRows a = VisibleRows::from(run_graph_masked(masked_graph(stem), x, m, on_onednn(opt), stem));
    for (std::size_t b = 0; b < chain_.size(); ++b)
      a = masked_bottleneck_rows(a, chain_[b], rows_weights(b, x.shape()).data(), opt.fill, onednn::onednn_sgemm);
    return masked_avgpool_rows(a);
  }
  bool holds_weights() const override { return resnet_ != nullptr; }

 private:
  static LayerMaskingOptions on_onednn(LayerMaskingOptions opt) {
    opt.gemm = onednn::onednn_sgemm;
    return opt;
  }
  int features_node() const {
    if (net_.graph().features < 0) throw std::logic_error("onednn: this graph marks no features");
    return net_.graph().features;
  }
  // The rows end where the features' global pool reads.
  int input_of_features() const {
    const Node& f = net_.graph().nodes[net_.graph().features];
    return f.op == Op::global_avgpool ? f.inputs[0] : 0;
  }
  // Bottleneck b's conv1, conv2, conv3, downsample weights in a GEMM layout:
  // the clean forward's own at this input shape when they are of that form.
  const std::array<RowWeights, 4>& rows_weights(std::size_t b, const Shape& in) {
    if (rows_weights_.empty())
      for (const RowsBlock& block : chain_) {
        std::array<RowWeights, 4> w{};
        for (int i = 0; i < 4; ++i)
          if (block.nodes[i] >= 0) w[i] = net_.gemm_weights(block.nodes[i], in);
        rows_weights_.push_back(w);
      }
    return rows_weights_[b];
  }
  // The graph the native masked forward runs to node `until`: the bare graph
  // as given; for a ResNet its own, when it still holds every weight that
  // needs (the stem and head stay after a release), else (made once, about
  // 100 MB for ResNet-50) one whose conv weights are copies of those held here.
  const Graph& masked_graph(int until) {
    if (own_graph_) return *own_graph_;
    resnet_graph_ = fuse_epilogues(resnet_->graph());  // shares the network's tensors: nothing is copied
    const std::vector<bool> needed = needed_for(resnet_graph_, until);
    bool complete = true;
    for (int id = 0; id < resnet_graph_.size(); ++id)
      if (needed[id] && resnet_graph_.nodes[id].op == Op::conv2d && resnet_graph_.nodes[id].weight.empty())
        complete = false;
    if (complete) return resnet_graph_;
    if (!rebuilt_) {
      rebuilt_ = std::make_unique<Graph>(fuse_epilogues(resnet_->graph()));
      for (int id = 0; id < rebuilt_->size(); ++id) {
        Node& node = rebuilt_->nodes[id];
        if (node.op == Op::conv2d && node.weight.empty()) node.weight = net_.plain_weights_copy(id);
      }
    }
    return *rebuilt_;
  }

  onednn::OnednnNet net_;
  const ResNet* resnet_;
  std::vector<RowsBlock> chain_;      // into net_'s graph
  Node head_;                         // the output node, with its weights
  std::unique_ptr<Graph> own_graph_;  // a bare graph's, with its weights
  Graph resnet_graph_;                // the ResNet's, remade per masked call
  std::unique_ptr<Graph> rebuilt_;    // after the ResNet released its weights
  std::vector<std::array<RowWeights, 4>> rows_weights_;  // per block, on first masked use
};

}  // namespace

std::unique_ptr<Backend> make_onednn_from_graph(const Graph& graph) {
  return std::make_unique<OnednnBackend>(fuse_epilogues(without_identities(graph)), nullptr);
}

std::unique_ptr<Backend> make_onednn(const ResNet& net) {
  // An unfolded network is refused there: the masked rows read a block's folded weights and biases.
  return std::make_unique<OnednnBackend>(fused_resnet_graph(net), &net);
}

}  // namespace lmask::backends
