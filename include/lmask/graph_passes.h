// graph_passes.h — rewrites of a Graph that keep every value it computes,
// clean and layer-masked (each pass says why its rewrite is exact under the
// rules of mask_rules.h).
#pragma once

#include "lmask/graph.h"

namespace lmask {

// Each BatchNorm whose input is a conv read by it alone goes into the conv:
// weights scaled per output channel, the shift as bias (ops.h
// fold_batchnorm). Exact for the masked forward too: BN(x*m)*m after a conv
// whose output is already 0 outside m equals the folded conv's output,
// zeroed outside m. The folded weights are new tensors; the input graph's
// are left as they are.
Graph fold_batchnorms(const Graph& g);

// Each conv read only by an add, whose other operand comes earlier, takes
// the add into its epilogue (Node::has_residual); a conv (or such a conv +
// add) read only by an activation takes the activation (fused_activation).
// The conv's value at its own output mask is what the add and activation
// read, so computing them in its epilogue changes nothing; the fused node's
// mask is the add's. Nodes named as output or features are never absorbed.
Graph fuse_epilogues(const Graph& g);

// Identity nodes removed: their readers read the identity's input.
Graph without_identities(const Graph& g);

}  // namespace lmask
