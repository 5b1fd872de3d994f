// lower_layers.cpp — a fused graph as the layer list the compiling backends
// (oneDNN, CUDA) build their primitives from (backends.h).
#include "backends.h"

namespace lmask::backends {

LayerGraph lower_to_layers(const Graph& fused, const std::string& backend) {
  LayerGraph layers;
  layers.in_channels = fused.in_channels;
  layers.features = fused.features;
  for (int id = 1; id < fused.size(); ++id) {
    const Node& node = fused.nodes[id];
    auto refuse = [&](const std::string& what) {
      throw Unsupported(backend + ": " + node_label(fused, id) + ": " + what + " is not implemented on this backend");
    };
    Layer l;
    l.src = node.inputs.empty() ? 0 : node.inputs[0];
    switch (node.op) {
      case Op::conv2d:
        if (node.fused_activation && node.activation != Activation::relu)
          refuse(std::string("a fused ") + activation_name(node.activation));
        l.op = Layer::Op::conv;
        l.conv = node.conv;
        l.residual = node.has_residual() ? node.inputs[1] : -1;
        l.relu = node.fused_activation;
        l.weight = &node.weight;
        l.bias = node.bias.empty() ? nullptr : &node.bias;
        break;
      case Op::maxpool:
        if (node.pool.ceil_mode) refuse("ceil_mode");
        l.op = Layer::Op::maxpool;
        l.conv.kernel = node.pool.kernel, l.conv.stride = node.pool.stride, l.conv.padding = node.pool.padding;
        break;
      case Op::global_avgpool: l.op = Layer::Op::global_avgpool; break;
      case Op::adaptive_avgpool:
        if (node.out_size != 1) refuse("an output size above 1");
        l.op = Layer::Op::global_avgpool;
        break;
      case Op::linear:
        l.op = Layer::Op::linear;
        l.weight = &node.weight;
        l.bias = node.bias.empty() ? nullptr : &node.bias;
        break;
      default: refuse("the op");
    }
    layers.layers.push_back(l);
  }
  if (fused.output != fused.size() - 1) throw Unsupported(backend + ": the graph's output is not its last node");
  return layers;
}

}  // namespace lmask::backends
