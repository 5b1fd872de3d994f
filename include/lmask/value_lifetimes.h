// value_lifetimes.h — when a forward over a graph may drop a node's value,
// and when a node may write into its input instead of a copy: for the
// graph forwards (src/graph), and for the embedded forward's arena plan,
// which lays out in advance what they decide as they go.
//
// identity and flatten pass their input's storage on, so lifetimes are
// tracked per storage: the node that made it (its root) and the last node
// reading it under any of its names.
#pragma once

#include <algorithm>
#include <vector>

#include "lmask/graph.h"

namespace lmask {

class ValueLifetimes {
 public:
  // For the nodes up to `until`; `input_writable`: the forward made its own
  // copy of the input, so its last reader may write into it.
  ValueLifetimes(const Graph& g, int until, bool input_writable)
      : root_(g.nodes.size()), last_read_(g.nodes.size(), -1), dead_after_(g.nodes.size()) {
    for (int id = 0; id <= until; ++id) {
      const Node& node = g.nodes[id];
      const bool alias = node.op == Op::identity || node.op == Op::flatten;
      root_[id] = alias ? root_[node.inputs[0]] : id;
      for (int in : node.inputs) last_read_[root_[in]] = std::max(last_read_[root_[in]], id);
    }
    last_read_[root_[until]] = g.size();  // the result is never dropped
    if (!input_writable) last_read_[0] = g.size();
    for (int id = 0; id <= until; ++id)
      if (root_[id] == id && last_read_[id] >= 0 && last_read_[id] <= until) dead_after_[last_read_[id]].push_back(id);
  }

  // The node whose storage node `id`'s value is: itself, or for identity
  // and flatten their input's root.
  int root(int id) const { return root_[id]; }
  // The last node reading the storage made by node `root`: -1 for none,
  // g.size() for the result (and for the input when it is not writable).
  int last_reader(int root) const { return last_read_[root]; }
  // Whether `reader` is the last node to read node `id`'s storage.
  bool may_overwrite(int id, int reader) const { return last_read_[root_[id]] == reader; }
  // After `reader` ran: drops every value (aliases included) of the storages
  // it read for the last time, so their memory goes.
  void drop_after(int reader, std::vector<Tensor>& values) const {
    for (int dead : dead_after_[reader])
      for (int j = dead; j <= reader; ++j)
        if (root_[j] == dead) values[j] = Tensor();
  }

 private:
  std::vector<int> root_;       // per node: the node whose storage its value is
  std::vector<int> last_read_;  // per root: the last node reading it
  std::vector<std::vector<int>> dead_after_;
};

}  // namespace lmask
