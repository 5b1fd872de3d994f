// resnet.h — the ResNet builder: torchvision ResNets (v1.5: the stride sits
// on the 3x3 conv) from a description and a state_dict, with BatchNorm
// folded into the convolutions at load time, and their graph (graph.h,
// resnet_graph.cpp).
//
// The description covers ResNet-18/34/50/101/152, ResNeXt and wide ResNets.
// Everything outside src/model runs a ResNet as a Model (model.h) of its
// graph; the forwards here, the same graph forwards (graph_forward.h), are
// for the builder's own tests. The embedded build, which has no Model,
// loads a ResNet and runs its graph (epilogues fused) in the arena
// (embedded.h).
#pragma once

#include <array>
#include <string>
#include <vector>

#include "lmask/graph.h"
#include "lmask/mask.h"
#include "lmask/masked_ops.h"
#include "lmask/ops.h"
#include "lmask/tensor.h"
#include "lmask/weights.h"

namespace lmask {

struct ResNetSpec {
  bool bottleneck = true;                // Bottleneck (50/101/152) or BasicBlock (18/34)
  std::array<int, 4> blocks{3, 4, 6, 3}; // blocks per stage
  int groups = 1;                        // ResNeXt cardinality
  int width_per_group = 64;              // 128 for wide_resnet*_2
  int num_classes = 1000;

  // "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
  // "resnext50_32x4d", "resnext101_32x8d", "wide_resnet50_2", "wide_resnet101_2".
  // `source` names where the name came from (a weights file) in errors.
  static ResNetSpec from_arch(const std::string& arch, int num_classes,
                              const std::string& source = "arch");
  int feature_channels() const { return 512 * (bottleneck ? 4 : 1); }
};

struct LoadOptions {
  // Fold each BatchNorm into the conv before it (fast path). false keeps the
  // BatchNorm layers: the reference the folded network is tested against.
  bool fold_bn = true;
};

// A conv followed by its BatchNorm; after folding, `bn` is empty and the
// conv carries the BN as weight scale + bias.
struct ConvBN {
  std::string name, bn_name;  // their state_dict prefixes: "layer1.0.conv1", "layer1.0.bn1"
  ConvParams conv;
  Tensor weight;  // [O, I/groups, K, K]
  Tensor bias;    // [1, O, 1, 1]; empty when the BN is kept apart
  BatchNormParams bn;  // empty when folded
};

struct Block {
  std::vector<ConvBN> convs;  // 2 (basic) or 3 (bottleneck), each followed by ReLU but the last
  bool has_downsample = false;
  ConvBN downsample;
};

class ResNet {
 public:
  // Takes the weights by value: folding rewrites them in place, so a caller
  // that std::moves them in never holds two copies.
  static ResNet load(Weights weights, LoadOptions options = {});
  static ResNet load(const std::string& h5_path, LoadOptions options = {});

  // x [N,3,H,W] normalised image -> logits [N,num_classes,1,1].
  Tensor forward(const Tensor& x) const;
  // x [N,3,H,W] -> pooled features [N,feature_channels,1,1] (input of fc).
  Tensor features(const Tensor& x) const;
  // features [N,F,1,1] -> logits [N,num_classes,1,1]: the fc layer.
  Tensor classify(const Tensor& features) const;

  // Layer masking (spec: shared/spec/LAYER_MASKING.md): the forward of
  // (x * m, m), every layer following its mask rule. x [N,3,H,W] normalised
  // image, m [N,1,H,W] with a different mask per image allowed.
  Tensor forward_masked(const Tensor& x, const Mask& m, const LayerMaskingOptions& options = {}) const;
  // Pooled features of the masked forward.
  Tensor features_masked(const Tensor& x, const Mask& m, const LayerMaskingOptions& options = {}) const;

  // The network as a graph of ops, node by node as torchvision runs it
  // (BatchNorm as its own node when loaded unfolded); it shares this
  // network's tensors. Stages "stem", "layer1".."layer4" are marked.
  Graph graph() const;

  const ResNetSpec& spec() const { return spec_; }
  // The layers as loaded (the builder's tests read them).
  const ConvBN& stem() const { return stem_; }
  const std::vector<Block>& blocks() const { return blocks_; }
  const Tensor& fc_weight() const { return fc_weight_; }  // [classes, features, 1, 1]
  const Tensor& fc_bias() const { return fc_bias_; }      // [1, classes, 1, 1]
  const Weights& meta() const { return meta_; }  // preprocessing and class names, no params

  // For a model whose backend keeps its own copy of the weights
  // (Backend::holds_weights, Model::use_backend): drops this network's
  // reference to every residual block's conv weights, so that memory goes
  // once the backend has converted them. Shapes, biases, the stem and the
  // fc layer stay; the native forward past the stem then throws
  // std::logic_error.
  void release_block_weights();

 private:
  std::size_t stage_end(int stage) const;  // index one past the stage's last block
  void require_block_weights() const;      // throws once they are released
  void build_native_graph();               // native_ from the layers as they are now

  ResNetSpec spec_;
  Weights meta_;
  ConvBN stem_;
  std::vector<Block> blocks_;
  Tensor fc_weight_;  // [classes, features, 1, 1]
  Tensor fc_bias_;    // [1, classes, 1, 1]
  bool block_weights_released_ = false;
  Graph native_;  // graph() with epilogues fused: what the native forwards run
};

}  // namespace lmask
