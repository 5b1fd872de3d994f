// graph_from_weights.cpp — the builder a weight file asks for: the graph
// description stored in the file (its lmask_graph attribute, a converter's:
// docs/graph_format.md) when it has one, else the builder of its `arch`:
// torchvision's SqueezeNet, DenseNet, MobileNetV3 or EfficientNet families
// (lmask/zoo.h), or the ResNet builder.
#include "graph_from_weights.h"

#include <utility>

#include "lmask/graph_json.h"
#include "lmask/graph_passes.h"
#include "lmask/zoo.h"

namespace lmask {

namespace {

// The file's attributes without its tensors.
Weights metadata(Weights weights) {
  weights.params.clear();
  weights.dims.clear();
  return weights;
}

}  // namespace

BuiltGraph graph_from_weights(Weights weights) {
  BuiltGraph built;
  if (!weights.graph_json.empty()) {
    built.graph = fold_batchnorms(graph_from_description(weights));  // the graph shares the file's tensors
    built.meta = metadata(std::move(weights));  // preprocessing, class names
    return built;
  }
  if (is_zoo_arch(weights.arch)) {
    built.graph = fold_batchnorms(zoo_graph(weights));
    built.meta = metadata(std::move(weights));
    return built;
  }
  // Without a description: a torchvision ResNet named by its `arch`
  // attribute (ResNetSpec::from_arch refuses any other name, naming the file).
  built.resnet = std::make_shared<ResNet>(ResNet::load(std::move(weights)));
  built.graph = built.resnet->graph();  // shares the network's tensors
  built.meta = built.resnet->meta();
  return built;
}

}  // namespace lmask
