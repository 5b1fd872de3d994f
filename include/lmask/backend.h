// backend.h — how a network runs: the backend interface, made from a Graph
// (graph.h), and the registry that picks a backend by name. Callers run a
// model through Model (model.h), which owns its backend.
//
// A backend is made once from a network; it prepares what it needs per
// input shape on first use (primitives, reordered weights, one arena for
// the activations) and keeps it, so only the first call at a shape is slow.
// Every backend runs the clean and the layer-masked forward
// (shared/spec/LAYER_MASKING.md, mask_rules.h), with the results of the
// literal rules within the op table's tolerance (tests/test_op_table.cpp).
// A backend object is not thread-safe; use one per thread.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "lmask/graph.h"
#include "lmask/mask.h"
#include "lmask/masked_ops.h"
#include "lmask/ops.h"
#include "lmask/tensor.h"

namespace lmask {


class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // x [N,C,H,W] -> the graph's output: logits [N,classes,1,1] for a classifier.
  virtual Tensor forward(const Tensor& x) = 0;
  // x [N,C,H,W] -> the value of the graph's features node: the pooled
  // features [N,F,1,1] (the input of a ResNet's fc layer).
  virtual Tensor features(const Tensor& x) = 0;
  // The layer-masked forward of (x * m, m), m [N,1,H,W]: logits, and the
  // pooled features.
  virtual Tensor forward_masked(const Tensor& x, const Mask& m, const LayerMaskingOptions& options) = 0;
  virtual Tensor features_masked(const Tensor& x, const Mask& m, const LayerMaskingOptions& options) = 0;
  // true: the backend keeps the conv weights in its own layouts and stops
  // reading the graph's after it has converted them (its first forward at
  // a shape), so the caller may drop its own references to the graph's
  // conv weights (Model::use_backend does) and the weights are held once
  // instead of twice.
  virtual bool holds_weights() const { return false; }
};

// Backends built into this binary, fastest first.
std::vector<std::string> available_backends();


// What a backend made from a Graph throws for an op (or op parameters) it
// does not implement, when it is made or when it first prepares a shape;
// the message names the node.
class Unsupported : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The backend `name` running `graph` (graph.h), its epilogues fused
// (graph_passes.h): forward(x) is the output node's value, forward_masked
// the layer-masked forward's, every node by its rule (mask_rules.h);
// features* stop at graph.features. `name` "" or "auto": the fastest built
// and usable here; an unknown or unbuilt name throws InputError naming the
// built backends. Every backend offers it; one that cannot run a node
// throws Unsupported. The graph is copied (its tensors shared).
std::unique_ptr<Backend> make_backend(const std::string& name, const Graph& graph);

// Threads for every backend (OpenMP: native loops, OpenBLAS, oneDNN); n <= 0
// leaves OpenMP's default. Call before the first forward: oneDNN sizes its
// work split when it prepares a shape.
void set_threads(int n);
int threads();  // what a forward will use now

}  // namespace lmask
