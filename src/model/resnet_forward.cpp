// resnet_forward.cpp — a ResNet's forwards: its graph (resnet_graph.cpp),
// epilogues fused, run by the native graph forwards (graph_forward.h).
#include <stdexcept>

#include "lmask/graph_forward.h"
#include "lmask/graph_passes.h"
#include "lmask/resnet.h"

namespace lmask {

void ResNet::build_native_graph() { native_ = fuse_epilogues(graph()); }

void ResNet::require_block_weights() const {
  if (block_weights_released_)
    throw std::logic_error("ResNet: its block weights were handed to a backend; run it through that backend");
}

std::size_t ResNet::stage_end(int stage) const {
  std::size_t end = 0;
  for (int s = 0; s <= stage; ++s) end += spec_.blocks[s];
  return end;
}

Tensor ResNet::features(const Tensor& x) const {
  require_block_weights();
  return run_graph(native_, x, native_.features);
}

Tensor ResNet::classify(const Tensor& f) const {
  Tensor logits({f.n(), spec_.num_classes, 1, 1});
  linear(logits, f, fc_weight_, fc_bias_);
  return logits;
}

Tensor ResNet::forward(const Tensor& x) const { return classify(features(x)); }

Tensor ResNet::features_masked(const Tensor& x, const Mask& m, const LayerMaskingOptions& opt) const {
  require_block_weights();
  return run_graph_masked(native_, x, m, opt, native_.features).x;
}

Tensor ResNet::forward_masked(const Tensor& x, const Mask& m, const LayerMaskingOptions& opt) const {
  return classify(features_masked(x, m, opt));
}

}  // namespace lmask
