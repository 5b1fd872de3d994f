// resnet_block_weights.cpp — letting go of the residual blocks' conv
// weights once a backend keeps its own copy (Model::use_backend).
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

}  // namespace lmask
