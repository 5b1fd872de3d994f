// zoo_graph.cpp — which builder of zoo_builder.h an architecture name asks for.
#include "lmask/zoo.h"

#include "lmask/error.h"
#include "zoo_builder.h"

namespace lmask {

namespace {

using ZooBuild = Graph (*)(const Weights&);

ZooBuild zoo_build(const std::string& arch) {
  if (arch == "squeezenet1_0" || arch == "squeezenet1_1") return squeezenet_graph;
  if (arch == "densenet121" || arch == "densenet161" || arch == "densenet169" || arch == "densenet201")
    return densenet_graph;
  if (arch == "mobilenet_v3_large" || arch == "mobilenet_v3_small") return mobilenet_v3_graph;
  if (arch.size() == 15 && arch.compare(0, 14, "efficientnet_b") == 0 && arch[14] >= '0' && arch[14] <= '7')
    return efficientnet_graph;
  return nullptr;
}

}  // namespace

bool is_zoo_arch(const std::string& arch) { return zoo_build(arch) != nullptr; }

Graph zoo_graph(const Weights& w) {
  const ZooBuild build = zoo_build(w.arch);
  if (!build) throw InputError(w.path, "'" + w.arch + "' is not an architecture of the zoo builders");
  return build(w);
}

}  // namespace lmask
