// fused_resnet_graph.cpp — a loaded ResNet as the graph the compiling
// backends build from (backends.h). It only shares the network's tensors.
#include "backends.h"
#include "lmask/error.h"
#include "lmask/graph_passes.h"
#include "lmask/resnet.h"

namespace lmask::backends {

Graph fused_resnet_graph(const ResNet& net) {
  if (!net.stem().bn.empty())
    throw InputError("backend", "needs the BatchNorm folded into the convs (load with fold_bn = true)");
  return fuse_epilogues(net.graph());
}

}  // namespace lmask::backends
