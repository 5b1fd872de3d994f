// cuda_support.cpp — the nodes the CUDA backend refuses (cuda_support.h).
#include "cuda_support.h"

#include <string>

#include "lmask/backend.h"

namespace lmask::backends::cuda {

void check_supported(const Graph& fused) {
  for (int id = 1; id < fused.size(); ++id) {
    const Node& node = fused.nodes[id];
    auto refuse = [&](const std::string& what) {
      throw Unsupported("cuda: " + node_label(fused, id) + ": " + what + " is not implemented on this backend");
    };
    switch (node.op) {
      case Op::conv2d:
        // The epilogue kernels know ReLU only.
        if (node.fused_activation && node.activation != Activation::relu)
          refuse(std::string("a fused ") + activation_name(node.activation));
        break;
      case Op::activation:
        if (node.activation != Activation::relu) refuse(std::string("the activation ") + activation_name(node.activation));
        break;
      case Op::maxpool:
        if (node.pool.ceil_mode) refuse("ceil_mode");
        break;
      case Op::adaptive_avgpool:
        if (node.out_size != 1) refuse("an output size above 1");
        break;
      case Op::global_avgpool:
      case Op::add:
      case Op::linear:
      case Op::flatten:
      case Op::identity:
      case Op::fill_step: break;
      case Op::input: refuse("a second input"); break;
      case Op::batchnorm:
      case Op::avgpool:
      case Op::concat:
      case Op::channel_scale: refuse("the op"); break;
    }
  }
}

}  // namespace lmask::backends::cuda
