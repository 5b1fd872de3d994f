// graph_from_weights.cpp — the builder a weight file asks for: the graph
// description stored in the file (its lmask_graph attribute, a converter's:
// docs/graph_format.md) when it has one, else the builder of its `arch`:
// torchvision's SqueezeNet, DenseNet, MobileNetV3 or EfficientNet families
// (zoo_builder.h), or the ResNet builder.
#include "graph_from_weights.h"

#include <utility>

#include "lmask/graph_json.h"
#include "lmask/graph_passes.h"
#include "zoo_builder.h"

namespace lmask {

namespace {

using ZooBuild = Graph (*)(const Weights&);

// The builder of a torchvision architecture beyond the ResNets, or nullptr.
ZooBuild zoo_build(const std::string& arch) {
  if (arch == "squeezenet1_0" || arch == "squeezenet1_1") return squeezenet_graph;
  if (arch == "densenet121" || arch == "densenet161" || arch == "densenet169" || arch == "densenet201")
    return densenet_graph;
  if (arch == "mobilenet_v3_large" || arch == "mobilenet_v3_small") return mobilenet_v3_graph;
  if (arch.size() == 15 && arch.compare(0, 14, "efficientnet_b") == 0 && arch[14] >= '0' && arch[14] <= '7')
    return efficientnet_graph;
  return nullptr;
}

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
  if (const ZooBuild build = zoo_build(weights.arch)) {
    built.graph = fold_batchnorms(build(weights));
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
