// graph_from_weights.cpp — the builder a weight file asks for: the graph
// description stored in the file (its lmask_graph attribute, a converter's:
// docs/graph_format.md) when it has one, else the ResNet builder by `arch`.
#include "graph_from_weights.h"

#include <utility>

#include "lmask/graph_json.h"
#include "lmask/graph_passes.h"

namespace lmask {

BuiltGraph graph_from_weights(Weights weights) {
  BuiltGraph built;
  if (!weights.graph_json.empty()) {
    built.graph = fold_batchnorms(graph_from_description(weights));  // the graph shares the file's tensors
    weights.params.clear();  // keep only the metadata (preprocessing, class names)
    weights.dims.clear();
    built.meta = std::move(weights);
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
