// resnet_forward.cpp — the unmasked forward pass as a flat list of layer calls.
#include "lmask/resnet.h"

#include <stdexcept>

namespace lmask {

namespace {

// One conv with its BatchNorm (folded into weight/bias, or applied after it as
// the reference), then ReLU if asked.
Tensor run_conv_bn(const Tensor& x, const ConvBN& layer, Workspace& ws, bool relu_after) {
  Tensor y(layer.conv.out_shape(x.shape()));
  if (layer.bn.empty()) {
    conv2d(y, x, layer.weight, layer.bias, layer.conv, ws, relu_after);
  } else {
    conv2d(y, x, layer.weight, layer.bias, layer.conv, ws, false);
    batchnorm(y, layer.bn);
    if (relu_after) relu(y);
  }
  return y;
}

// out = relu(branch(x) + identity(x)), the branch's last conv without ReLU.
Tensor run_block(const Tensor& x, const Block& block, Workspace& ws) {
  Tensor t = x;
  for (std::size_t i = 0; i < block.convs.size(); ++i)
    t = run_conv_bn(t, block.convs[i], ws, /*relu_after=*/i + 1 < block.convs.size());
  const Tensor identity = block.has_downsample ? run_conv_bn(x, block.downsample, ws, false) : x;
  add(t, identity, /*relu=*/true);
  return t;
}

}  // namespace

void ResNet::require_block_weights() const {
  if (block_weights_released_)
    throw std::logic_error("ResNet: its block weights were handed to a backend; run it through that backend");
}

Tensor ResNet::features(const Tensor& x) const {
  require_block_weights();
  Workspace& ws = Workspace::for_this_thread();
  ws.gemm = sgemm;
  // x [N,3,H,W] -> stem [N,64,H/2,W/2] -> maxpool [N,64,H/4,W/4]
  Tensor stem = run_conv_bn(x, stem_, ws, true);
  Tensor t({stem.n(), stem.c(), pool_out_size(stem.h(), 3, 2, 1), pool_out_size(stem.w(), 3, 2, 1)});
  maxpool2d(t, stem, 3, 2, 1);
  // 4 stages of blocks -> [N,2048,H/32,W/32]
  for (const Block& block : blocks_) t = run_block(t, block, ws);
  // global average pool -> [N,2048,1,1]
  Tensor pooled({t.n(), t.c(), 1, 1});
  adaptive_avgpool2d(pooled, t);
  return pooled;
}

Tensor ResNet::classify(const Tensor& f) const {
  Tensor logits({f.n(), spec_.num_classes, 1, 1});
  linear(logits, f, fc_weight_, fc_bias_);
  return logits;
}

Tensor ResNet::forward(const Tensor& x) const { return classify(features(x)); }

}  // namespace lmask
