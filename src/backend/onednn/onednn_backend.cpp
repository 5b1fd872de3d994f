// onednn_backend.cpp — the oneDNN CPU backend: a graph compiled by
// OnednnNet, behind the Backend interface. The layer-masked forward is the
// graph's own (graph_forward.h) with its GEMMs on oneDNN's SGEMM; under
// active execution the chain of bottlenecks ending at the pooled features
// (masked_rows.h: ResNet-50/101/152 from the stem on) is one span of that
// forward (MaskedSpans), run on visible rows with the weights the clean
// forward's convolutions hold.
#include <algorithm>
#include <array>
#include <memory>
#include <vector>

#include "backends.h"
#include "lmask/graph_forward.h"
#include "lmask/graph_passes.h"
#include "lmask/mask_plan.h"
#include "lmask/masked_rows.h"
#include "onednn_gemm.h"
#include "onednn_net.h"

namespace lmask::backends {

namespace {

class OnednnBackend final : public Backend, private MaskedSpans {
 public:
  // `fused`: epilogues fused. Its conv weights go to net_ (oneDNN's
  // layouts); the graph the native masked forward runs keeps only those
  // of the nodes before the visible rows start (for ResNet-50 the stem),
  // so the caller may drop its own (holds_weights) and the weights are held
  // once.
  explicit OnednnBackend(const Graph& fused)
      : net_(fused), chain_(fused.features >= 0 ? bottleneck_chain(net_.graph(), input_of_features())
                                                : std::vector<RowsBlock>()),
        masked_(fused), cuts_(cuts(fused)) {
    rows_ = rows_span();
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
    if (head_.op != Op::linear || head_.inputs[0] != net_.graph().features) {
      const int out = net_.graph().output;
      if (const int cut = clean_from(m, opt, out); cut > 0) return clean_after(cut, x, m, opt, out);
      return run_graph_masked(masked_graph(out, false), x, m, on_onednn(opt)).x;
    }
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
    const bool rows = opt.execution == Execution::active && rows_.last > 0;
    if (!rows)
      if (const int cut = clean_from(m, opt, features_node()); cut > 0)
        return clean_after(cut, x, m, opt, features_node());
    image_ = x.shape();
    return run_graph_masked(masked_graph(features_node(), rows), x, m, on_onednn(opt), features_node(), nullptr,
                            rows ? this : nullptr)
        .x;
  }
  bool holds_weights() const override { return true; }

 private:
  static LayerMaskingOptions on_onednn(LayerMaskingOptions opt) {
    opt.gemm = onednn::onednn_sgemm;
    return opt;
  }
  // Nodes no later node reads past: the value there is all the rest of
  // the graph reads (between blocks of a chain). Ascending.
  static std::vector<int> cuts(const Graph& g) {
    std::vector<int> out;
    int earliest_read = g.size();  // the least input of any node after the one looked at
    for (int id = g.size() - 1; id > 0; --id) {
      if (earliest_read >= id) out.push_back(id);
      for (int in : g.nodes[id].inputs) earliest_read = std::min(earliest_read, in);
    }
    std::reverse(out.begin(), out.end());
    return out;
  }
  // The first cut before `until` where every image's mask is all visible,
  // or -1. From there the masked forward is the clean one (the spec: with
  // nothing removed no fill has anything to do). Under active execution
  // only: dense is the spec read literally. Never under renorm, where zero
  // padding counts as removed.
  int clean_from(const Mask& m, const LayerMaskingOptions& opt, int until) const {
    if (opt.fill == Fill::renorm || opt.execution != Execution::active) return -1;
    const Graph& g = net_.graph();
    std::vector<Mask> mask(g.size());
    mask[0] = m;
    auto cut = cuts_.begin();
    for (int id = 1; id < until && cut != cuts_.end(); ++id) {
      std::vector<const Mask*> inputs;
      for (int in : g.nodes[id].inputs) inputs.push_back(&mask[in]);
      mask[id] = output_mask(g.nodes[id], inputs);
      if (id != *cut) continue;
      if (mask[id].all_visible()) return id;
      ++cut;
    }
    return -1;
  }
  // The masked forward to `cut`, then the clean primitives from there to `until`.
  Tensor clean_after(int cut, const Tensor& x, const Mask& m, const LayerMaskingOptions& opt, int until) {
    const Act at_cut = run_graph_masked(masked_graph(cut, false), x, m, on_onednn(opt), cut);
    return net_.run_from(x.shape(), cut, at_cut.x, until);
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
  // The chain as one span, from its first block's first node to the
  // features' global pool, when those are consecutive nodes (none: last 0).
  MaskedSpan rows_span() const {
    MaskedSpan span;
    if (chain_.empty()) return span;
    std::vector<bool> in_chain(net_.graph().nodes.size(), false);
    span.first = net_.graph().size();
    for (const RowsBlock& block : chain_)
      for (int id : block.nodes)
        if (id >= 0) in_chain[id] = true, span.first = std::min(span.first, id);
    for (int id = span.first; id < features_node(); ++id)
      if (!in_chain[id]) return {};
    span.last = features_node();
    span.input = chain_.front().input;
    return span;
  }
  const MaskedSpan* span_at(int id) const override { return id == rows_.first ? &rows_ : nullptr; }
  Tensor run(const MaskedSpan&, const Act& input, const LayerMaskingOptions& opt) override {
    VisibleRows a = VisibleRows::from(input);
    for (std::size_t b = 0; b < chain_.size(); ++b)
      a = masked_bottleneck_rows(a, chain_[b], rows_weights(b, image_).data(), opt.fill, onednn::onednn_sgemm);
    return masked_avgpool_rows(a);
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
  // The graph the native masked forward runs to node `until` (with the
  // rows span when `rows`): masked_ when it holds every conv weight that
  // needs (the stem before the rows), else (made once, about 100 MB for
  // ResNet-50) one whose conv weights are copies of those held here.
  const Graph& masked_graph(int until, bool rows) {
    const std::vector<bool> needed = needed_for(masked_, until);
    bool complete = true;
    for (int id = 0; id < masked_.size(); ++id)
      if (needed[id] && !(rows && id >= rows_.first && id <= rows_.last) && masked_.nodes[id].op == Op::conv2d &&
          masked_.nodes[id].weight.empty())
        complete = false;
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
  MaskedSpan rows_;  // chain_ as a span of the masked forward; last 0: none
  std::vector<int> cuts_;  // cuts(net_'s graph)
  Shape image_;      // the input of the masked forward running now (the rows weights' shape)
};

}  // namespace

std::unique_ptr<Backend> make_onednn_from_graph(const Graph& graph) {
  // Stage marks are for observers of the native forwards (the golden
  // stage tests); here they would only keep a conv from absorbing its
  // activation (SqueezeNet's stem ends stage "0" before its ReLU).
  Graph plain = without_identities(graph);
  plain.stages.clear();
  return std::make_unique<OnednnBackend>(fuse_epilogues(plain));
}

}  // namespace lmask::backends
