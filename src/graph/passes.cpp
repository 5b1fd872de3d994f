// passes.cpp — graph rewrites that keep every value (graph_passes.h).
//
// Each pass walks the old graph in order and either emits a node into the
// new one or maps it onto a node already emitted; readers are then pointed
// at the new ids. Node order stays topological because a node is only ever
// merged into an earlier one whose inputs all precede it.
#include <vector>

#include "lmask/graph_passes.h"

namespace lmask {

namespace {

class Rewrite {
 public:
  explicit Rewrite(const Graph& old) : old_(old), to_new_(old.nodes.size(), -1) {
    out_.in_channels = old.in_channels;
    to_new_[0] = 0;
  }
  // Emits old node `id` (inputs remapped) and returns its new id.
  int emit(int id, Node node) {
    for (int& in : node.inputs) in = to_new_[in];
    to_new_[id] = out_.add(std::move(node));
    return to_new_[id];
  }
  int emit(int id) { return emit(id, old_.nodes[id]); }
  // Old node `id` is now computed by new node `into`.
  void alias(int id, int into) { to_new_[id] = into; }
  int new_id(int id) const { return to_new_[id]; }
  Node& emitted(int new_id) { return out_.nodes[new_id]; }
  Graph finish() {
    out_.output = to_new_[old_.output];
    out_.features = old_.features >= 0 ? to_new_[old_.features] : -1;
    out_.stages = old_.stages;
    for (auto& stage : out_.stages) stage.second = to_new_[stage.second];
    return std::move(out_);
  }

 private:
  const Graph& old_;
  Graph out_;
  std::vector<int> to_new_;
};

// Readers per node, with the output, features and stage ends counted as
// readers too: a node the caller may ask for is never folded into a later
// one (it may still absorb its readers, whose value it then is).
std::vector<int> reader_count(const Graph& g) {
  std::vector<int> count(g.nodes.size(), 0);
  const std::vector<std::vector<int>> readers = consumers(g);
  for (std::size_t i = 0; i < readers.size(); ++i) count[i] = static_cast<int>(readers[i].size());
  ++count[g.output];
  if (g.features >= 0) ++count[g.features];
  for (const auto& stage : g.stages) ++count[stage.second];
  return count;
}

bool is_plain_conv(const Node& n) { return n.op == Op::conv2d && !n.has_residual() && !n.fused_activation; }

}  // namespace

Graph fold_batchnorms(const Graph& g) {
  const std::vector<int> readers = reader_count(g);
  Rewrite r(g);
  for (int id = 1; id < g.size(); ++id) {
    const Node& node = g.nodes[id];
    const int src = node.inputs.empty() ? -1 : node.inputs[0];
    if (node.op == Op::batchnorm && is_plain_conv(g.nodes[src]) && readers[src] == 1) {
      Node& conv = r.emitted(r.new_id(src));
      conv.weight = conv.weight.clone();  // the input graph's weights stay as they are
      fold_batchnorm(conv.weight, conv.bias, node.bn);
      r.alias(id, r.new_id(src));
    } else {
      r.emit(id);
    }
  }
  return r.finish();
}

Graph fuse_epilogues(const Graph& g) {
  const std::vector<int> readers = reader_count(g);
  const std::vector<std::vector<int>> read_by = consumers(g);
  // The node reading `id`, when it is its only reader; -1 otherwise.
  auto sole_reader = [&](int id) { return readers[id] == 1 && read_by[id].size() == 1 ? read_by[id][0] : -1; };
  Rewrite r(g);
  std::vector<bool> absorbed(g.nodes.size(), false);
  for (int id = 1; id < g.size(); ++id) {
    if (absorbed[id]) continue;
    Node node = g.nodes[id];
    if (!is_plain_conv(node)) {
      r.emit(id, std::move(node));
      continue;
    }
    std::vector<int> taken;  // the nodes this conv absorbs
    int last = id;
    const int add = sole_reader(id);
    if (add >= 0 && g.nodes[add].op == Op::add) {
      const Node& a = g.nodes[add];
      const int other = a.inputs[0] == id ? a.inputs[1] : a.inputs[0];
      if (other < id) {  // the residual must exist when the conv runs
        node.inputs.push_back(other);
        taken.push_back(last = add);
      }
    }
    const int act = sole_reader(last);
    if (act >= 0 && g.nodes[act].op == Op::activation) {
      node.fused_activation = true;
      node.activation = g.nodes[act].activation;
      taken.push_back(act);
    }
    const int fused = r.emit(id, std::move(node));
    for (int t : taken) {
      absorbed[t] = true;
      r.alias(t, fused);
    }
  }
  return r.finish();
}

Graph without_identities(const Graph& g) {
  Rewrite r(g);
  for (int id = 1; id < g.size(); ++id) {
    if (g.nodes[id].op == Op::identity) r.alias(id, r.new_id(g.nodes[id].inputs[0]));
    else r.emit(id);
  }
  return r.finish();
}

}  // namespace lmask
