// model.cpp — a Model's graph, head, forwards and backend (model.h); where
// the graph comes from is model_load.cpp.
#include "lmask/model.h"

#include <stdexcept>
#include <utility>
#include <vector>

#include "lmask/error.h"
#include "lmask/graph_forward.h"
#include "lmask/graph_passes.h"
#include "lmask/resnet.h"

namespace lmask {

namespace {

// The nodes the output needs past the features node, as a graph whose input
// (node 0) is the features: what classify runs. A node there reading
// something from before the features would need the image as well.
Graph head_after(const Graph& g, const std::string& source) {
  Graph head;
  if (g.features < 0) return head;
  const std::vector<bool> needed = needed_for(g, g.output);
  std::vector<int> in_head(g.size(), -1);  // old id -> head id
  in_head[g.features] = 0;
  for (int id = g.features + 1; id < g.size(); ++id) {
    if (!needed[id]) continue;
    const Node& node = g.nodes[id];
    bool reads_head = false, reads_before = false;
    for (int in : node.inputs) (in_head[in] >= 0 ? reads_head : reads_before) = true;
    if (!reads_head) continue;
    if (reads_before)
      throw InputError(source, node_label(g, id) + " reads the features and a node before them; the head after "
                                                   "the features may read only what follows them");
    Node copy = node;
    for (int& in : copy.inputs) in = in_head[in];
    in_head[id] = head.add(std::move(copy));
  }
  if (in_head[g.output] < 0) throw InputError(source, "the graph's output does not follow its features node");
  head.output = in_head[g.output];
  return head;
}

}  // namespace

Model::Model(Graph graph, Weights meta)
    : graph_(fuse_epilogues(fold_batchnorms(without_identities(graph)))), meta_(std::move(meta)) {
  meta_.params.clear();
  meta_.dims.clear();
  // The shapes at the model's own input size: the number of classes and
  // features, and a graph that cannot take its own images is refused now.
  std::vector<Shape> shapes;
  try {
    shapes = infer_shapes(graph_, {1, graph_.in_channels, meta_.input_size, meta_.input_size});
  } catch (const std::exception& e) {  // InputError naming the node; invalid_argument for a weight's shape
    throw InputError(meta_.path, e.what());
  }
  num_classes_ = shapes[graph_.output].c;
  feature_channels_ = graph_.features >= 0 ? shapes[graph_.features].c : 0;
  head_ = head_after(graph_, meta_.path);
  head_.in_channels = feature_channels_;
}

Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

int Model::features_node() const {
  if (graph_.features < 0) throw std::logic_error("model " + meta_.path + ": its graph marks no features node");
  return graph_.features;
}

void Model::use_backend(const std::string& name) {
  if (conv_weights_dropped_)
    throw std::logic_error("model: its conv weights went to the " + backend_name() +
                           " backend; load it again to run it elsewhere");
  backend_.reset();
  if (name.empty()) return;
  backend_ = make_backend(name, graph_);
  if (backend_->holds_weights()) drop_conv_weights();
}

std::string Model::backend_name() const { return backend_ ? backend_->name() : "native"; }

void Model::drop_conv_weights() {
  // Every other reference to them: once the backend has converted a conv's
  // weights, the loaded tensor goes (onednn_net.h), so they are held once.
  for (Node& node : graph_.nodes)
    if (node.op == Op::conv2d) node.weight = Tensor();
  if (resnet_) resnet_->release_block_weights();
  conv_weights_dropped_ = true;
}

Tensor Model::forward(const Tensor& x) const { return backend_ ? backend_->forward(x) : run_graph(graph_, x); }

Tensor Model::features(const Tensor& x) const {
  const int until = features_node();
  return backend_ ? backend_->features(x) : run_graph(graph_, x, until);
}

Tensor Model::classify(const Tensor& f) const {
  features_node();
  return run_graph(head_, f);
}

Tensor Model::forward_masked(const Tensor& x, const Mask& m, const LayerMaskingOptions& options) const {
  return backend_ ? backend_->forward_masked(x, m, options) : run_graph_masked(graph_, x, m, options).x;
}

Tensor Model::features_masked(const Tensor& x, const Mask& m, const LayerMaskingOptions& options) const {
  const int until = features_node();
  return backend_ ? backend_->features_masked(x, m, options) : run_graph_masked(graph_, x, m, options, until).x;
}

}  // namespace lmask
