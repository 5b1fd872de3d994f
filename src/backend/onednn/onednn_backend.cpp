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
#include "onednn_gemm.h"
#include "onednn_net.h"

namespace lmask::backends {

namespace {

class OnednnBackend final : public Backend {
 public:
  // `fused`: epilogues fused. Its conv weights go to net_ (oneDNN's
  // layouts); the graph the native masked forward runs keeps only those
  // of the nodes before the visible rows start (for ResNet-50 the stem),
  // so the caller may drop its own (holds_weights) and the weights are held
  // once.
  explicit OnednnBackend(const Graph& fused)
      : net_(fused), chain_(fused.features >= 0 ? bottleneck_chain(net_.graph(), input_of_features())
                                                : std::vector<RowsBlock>()),
        masked_(fused) {
    const std::vector<bool> kept = chain_.empty() ? std::vector<bool>(masked_.size(), false)
                                                  : needed_for(masked_, chain_.front().input);
    for (int id = 0; id < masked_.size(); ++id)
      if (masked_.nodes[id].op == Op::conv2d && !kept[id]) masked_.nodes[id].weight = Tensor();
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
  bool holds_weights() const override { return true; }

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
  // The graph the native masked forward runs to node `until`: masked_ when
  // it holds every conv weight that needs (the stem before the rows), else
  // (made once, about 100 MB for ResNet-50) one whose conv weights are
  // copies of those held here.
  const Graph& masked_graph(int until) {
    const std::vector<bool> needed = needed_for(masked_, until);
    bool complete = true;
    for (int id = 0; id < masked_.size(); ++id)
      if (needed[id] && masked_.nodes[id].op == Op::conv2d && masked_.nodes[id].weight.empty()) complete = false;
    if (complete) return masked_;
    if (!rebuilt_) {
      rebuilt_ = std::make_unique<Graph>(masked_);
      for (int id = 0; id < rebuilt_->size(); ++id) {
        Node& node = rebuilt_->nodes[id];
        if (node.op == Op::conv2d && node.weight.empty()) node.weight = net_.plain_weights_copy(id);
      }
    }
    return *rebuilt_;
  }

  onednn::OnednnNet net_;
  std::vector<RowsBlock> chain_;     // into net_'s graph
  Graph masked_;                     // the fused graph, conv weights only where the rows do not start yet
  Node head_;                        // the output node, with its weights
  std::unique_ptr<Graph> rebuilt_;   // masked_ with every conv weight, once a masked forward needs them
  std::vector<std::array<RowWeights, 4>> rows_weights_;  // per block, on first masked use
};

}  // namespace

std::unique_ptr<Backend> make_onednn_from_graph(const Graph& graph) {
  return std::make_unique<OnednnBackend>(fuse_epilogues(without_identities(graph)));
}

}  // namespace lmask::backends
