// cuda_support.cpp — the nodes the CUDA backend refuses (cuda_support.h).
#include "cuda_support.h"

#include <string>

#include "lmask/backend.h"

namespace lmask::backends::cuda {

void check_supported(const Graph& fused) {
  for (int id = 1; id < fused.size(); ++id) {
    const Node& node = fused.nodes[id];
    // Every op of graph.h has its kernels, clean and masked; only a second
    // input has no meaning here (a forward uploads one image batch).
    if (node.op == Op::input)
      throw Unsupported("cuda: " + node_label(fused, id) + ": a second input is not implemented on this backend");
  }
}

}  // namespace lmask::backends::cuda
