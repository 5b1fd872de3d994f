// masked_conv.h — the masked conv of the native backend (masked_conv.cpp
// has its rule), private to the graph forwards.
#pragma once

#include "lmask/graph.h"
#include "lmask/mask.h"
#include "lmask/masked_ops.h"

namespace lmask {

struct MaskedConvCall {
  LayerMaskingOptions options;
  Workspace* workspace = nullptr;
  bool relu = false;              // max(0, .) in the conv's epilogue (no residual follows)
  bool input_is_scratch = false;  // nothing reads the input after: the fill may write into it
};

// y [N,O,OH,OW]: the conv of node `node` on in = (x, m) under the Conv2d
// rule, computed at `compute` (active) or everywhere then masked by
// conv_mask (dense); 0 at every output not computed. conv_mask = the rule's
// m' for this conv alone; compute is within it.
Tensor masked_conv2d(const Act& in, const Node& node, const Mask& conv_mask, const Mask& compute,
                     const MaskedConvCall& call);

}  // namespace lmask
