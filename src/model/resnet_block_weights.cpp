// resnet_block_weights.cpp — handing the residual blocks' conv weights to a
// backend that keeps its own copy, and getting a native network back.
#include "lmask/resnet.h"

namespace lmask {

void ResNet::release_block_weights() {
  for (Block& block : blocks_) {
    for (ConvBN& conv : block.convs) conv.weight = Tensor();
    block.downsample.weight = Tensor();
  }
  block_weights_released_ = true;
  build_native_graph();  // its nodes held the weights too
}

ResNet ResNet::with_block_weights(const std::function<Tensor(const ConvBN&)>& weight_of) const {
  ResNet copy = *this;
  for (std::size_t b = 0; b < blocks_.size(); ++b) {
    auto set = [&](ConvBN& to, const ConvBN& from) {
      to.weight = weight_of(from);  // `from`: this network's conv, as callers know it
      check_shape(to.weight, to.conv.weight_shape(), "ResNet block conv weight");
    };
    for (std::size_t i = 0; i < blocks_[b].convs.size(); ++i) set(copy.blocks_[b].convs[i], blocks_[b].convs[i]);
    if (blocks_[b].has_downsample) set(copy.blocks_[b].downsample, blocks_[b].downsample);
  }
  copy.block_weights_released_ = false;
  copy.build_native_graph();
  return copy;
}

}  // namespace lmask
