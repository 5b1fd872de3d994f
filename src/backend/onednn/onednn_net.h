// onednn_net.h — a Graph (epilogues fused) compiled to oneDNN primitives
// (private to the oneDNN backend).
//
// Per input shape (N,H,W), on first use, it builds a Plan: primitives per
// node (onednn_layers.h), the weights reordered once into the layouts those
// primitives asked for (kept across shapes, shared when layouts agree), and
// one arena holding every activation and the scratchpad, with activations
// that are never alive together sharing memory. A run then only executes
// primitives: the input is reordered in (if the first node wants another
// layout) and the asked-for activation reordered out to NCHW, nothing else
// moves and nothing is allocated but the returned tensor.
#pragma once

#include <dnnl.hpp>

#include <map>
#include <memory>
#include <tuple>
#include <vector>

#include "lmask/graph.h"
#include "lmask/masked_rows.h"

namespace lmask::backends::onednn {

class OnednnNet {
 public:
  // Checks the graph (weight shapes) and takes over its weights; prepares
  // nothing yet. A node oneDNN has no primitive for throws Unsupported when
  // the first plan is built.
  explicit OnednnNet(Graph graph);
  ~OnednnNet();

  const Graph& graph() const { return graph_; }  // its conv and linear weights are held here instead
  // x [N,in_channels,H,W] -> node `index`'s value as a new NCHW tensor;
  // runs only the nodes before it.
  Tensor run(const Tensor& x, int index);
  // Node `index`'s value as run() gives it for an input of shape `image`,
  // with node `from`'s value given instead of computed: only the nodes
  // after `from` run. No node after `from` may read one before it (a cut).
  Tensor run_from(const Shape& image, int from, const Tensor& value, int index);
  // Conv node `node`'s weights as [ceil(O/block)][K][K][I][block], the
  // last block zero-padded (oneDNN's Ohwi<block>o; hwio when block = O):
  // the layout the clean forward at input shape `in` holds them in when it
  // is of that form (so no copy), else a copy in Ohwi64o. Valid as long as
  // this net.
  RowWeights gemm_weights(int node, const Shape& in);
  // Conv node `node`'s weights as a new [O,I,K,K] tensor, from the layout
  // held (for a native network rebuilt from this one).
  Tensor plain_weights_copy(int node);

 private:
  struct Plan;
  Plan& plan_for(const Shape& in);
  // Runs nodes first..index of plan p, then returns index's value in NCHW.
  Tensor finish(Plan& p, int first, int index);
  std::unique_ptr<Plan> build(const Shape& in);
  // Node `node`'s weights (loaded in layout `have`) in layout `want`:
  // reordered on first request, the loaded tensor itself when they agree.
  dnnl::memory weights(int node, const dnnl::memory::desc& have, const dnnl::memory::desc& want);
  // Node `node`'s weights as held now: the loaded tensor (layout `have`)
  // until a layout made from it replaces it, then that layout.
  dnnl::memory current_weights(int node, const dnnl::memory::desc& have);
  // Node `node`'s weights as loaded, for it reading `src` (a zero desc: a conv).
  dnnl::memory::desc plain_weights_of(int node, const dnnl::memory::desc& src) const;

  Graph graph_;
  std::vector<int> channels_;   // per node: its output's channels
  std::vector<int> last_read_;  // per node: the last node reading it; -1: none
  dnnl::engine engine_;
  dnnl::stream stream_;
  std::vector<std::vector<dnnl::memory>> weights_;  // per node, one per layout asked for
  // Per node, the only reference this net keeps to the graph's weight
  // tensor, until a layout made from it is held: the loaded copy can go as
  // soon as its owner lets go too (Backend::holds_weights).
  std::vector<Tensor> sources_;
  std::map<std::tuple<int, int, int>, std::unique_ptr<Plan>> plans_;  // by (N, H, W)
};

}  // namespace lmask::backends::onednn
