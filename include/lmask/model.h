// model.h — a loaded network, as everything outside src/model sees it: the
// CLI, the studies, LIME, the masking methods.
//
// A Model owns the network as a Graph (graph.h) with its BatchNorms folded
// and its epilogues fused: what runs. It also holds the weight file's
// metadata (class names, preprocessing, arch), where the features end (the
// graph's features node) and the head after them, and optionally the
// backend it runs on. Without a backend every forward is the native graph
// forward (graph_forward.h), which is what the studies use: their CSVs are
// tested byte-identical across thread counts on native code only.
//
// Which builder makes the graph is decided in one place, src/model/
// graph_from_weights.cpp: the graph description a file carries
// (graph_json.h: a converter's, e.g. tools/convert_onnx.py), else the builder
// of its `arch` attribute: the zoo's (zoo.h) or the ResNets' (resnet.h).
#pragma once

#include <memory>
#include <string>

#include "lmask/backend.h"
#include "lmask/conv_work.h"
#include "lmask/graph.h"
#include "lmask/mask.h"
#include "lmask/masked_ops.h"
#include "lmask/weights.h"

namespace lmask {

class ResNet;

struct ModelOptions {
  // The backend the forwards run on, by make_backend's names ("auto": the
  // fastest built, "native", "onednn", "cuda"); empty: none, every forward
  // the native graph forward.
  std::string backend;
};

class Model {
 public:
  // An HDF5 (weights.h) or .lmw (lmw.h, told apart by its magic) weight
  // file; a regular file either way. Bad input throws InputError naming
  // the file: one line.
  static Model load(const std::string& path, const ModelOptions& options = {});
  // Weights already read (a .lmw buffer, a converter's output). Takes them
  // by value: the builder folds them in place, so a caller that std::moves
  // them in never holds two copies.
  static Model from_weights(Weights weights, const ModelOptions& options = {});
  // A graph from any builder (BatchNorm folded here if it is not yet) and
  // its metadata (`meta.params` are not kept). Throws InputError naming
  // meta.path when the graph cannot take a meta.input_size square image,
  // or its head after the features reads a node from before them.
  Model(Graph graph, Weights meta);

  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  ~Model();

  // Runs every forward on backend `name` from now on ("": none, native).
  // When the backend keeps the conv weights in its own layouts
  // (Backend::holds_weights), the model lets go of its own, so they are
  // held once (README "Backends": oneDNN's batch-1 peak RSS); a model
  // whose weights went to a backend cannot take another one (logic_error).
  void use_backend(const std::string& name);
  std::string backend_name() const;  // "native" without one

  // x [N,C,H,W] normalised image -> logits [N,num_classes,1,1].
  Tensor forward(const Tensor& x) const;
  // x -> the features [N,feature_channels,1,1]: the pooled features, the
  // head's input.
  Tensor features(const Tensor& x) const;
  // features [N,F,1,1] -> logits: the head, always native (for a ResNet,
  // the fc layer).
  Tensor classify(const Tensor& features) const;
  // Layer masking (shared/spec/LAYER_MASKING.md): the forward of (x * m, m),
  // m [N,1,H,W], a different mask per image allowed.
  Tensor forward_masked(const Tensor& x, const Mask& m, const LayerMaskingOptions& options = {}) const;
  Tensor features_masked(const Tensor& x, const Mask& m, const LayerMaskingOptions& options = {}) const;

  // Every conv's multiply-adds for the masks m takes through the graph.
  ConvWork conv_work(const Mask& m) const { return lmask::conv_work(graph_, m); }

  // What runs: every node with its weights, but for the conv weights once
  // a backend holding them took them (use_backend).
  const Graph& graph() const { return graph_; }
  // The nodes after the features, as a graph whose input is the features.
  const Graph& head() const { return head_; }
  const Weights& meta() const { return meta_; }  // preprocessing, class names, arch; no params
  int num_classes() const { return num_classes_; }
  int feature_channels() const { return feature_channels_; }  // 0: the graph marks no features

 private:
  int features_node() const;  // throws std::logic_error when the graph marks none
  void drop_conv_weights();

  Graph graph_;
  Graph head_;
  Weights meta_;
  int num_classes_ = 0, feature_channels_ = 0;
  // A backend object is not thread-safe (backend.h), so neither is a Model
  // with one: the const forwards call it.
  std::unique_ptr<Backend> backend_;
  bool conv_weights_dropped_ = false;
  std::shared_ptr<ResNet> resnet_;  // the builder's network, whose block weights the graph shares
};

}  // namespace lmask
