// graph_from_weights.cpp — the builder a weight file asks for. A graph
// description stored in the file (a converter's, for the CNNs beyond
// ResNet) is to be read here first, before the `arch` fallback below.
#include "graph_from_weights.h"

#include <utility>

namespace lmask {

BuiltGraph graph_from_weights(Weights weights) {
  // Today every weight file is a torchvision ResNet named by its `arch`
  // attribute (ResNetSpec::from_arch refuses any other name, naming the file).
  BuiltGraph built;
  built.resnet = std::make_shared<ResNet>(ResNet::load(std::move(weights)));
  built.graph = built.resnet->graph();  // shares the network's tensors
  built.meta = built.resnet->meta();
  return built;
}

}  // namespace lmask
