// onednn_layers.h — one graph node as oneDNN primitives at one input shape
// (private to the oneDNN backend).
//
// A node becomes one primitive (two for hardsigmoid, which oneDNN 2.x has no
// single eltwise for): a convolution with its bias, the residual add as a
// sum post-op and the activation as eltwise post-ops after it; BatchNorm with
// global statistics; an eltwise; a pooling; a binary add or multiply (the
// squeeze-excitation product broadcasts [N,C,1,1]); a concat; an inner
// product. Layouts are left to oneDNN (format_tag::any) except where the
// data already has one: a node reads its inputs in the layouts their
// producers chose, and a conv with a residual writes in the residual's
// layout (it writes into the residual's memory). So no reorder happens
// between nodes. What this is not: memory planning (onednn_net.cpp).
#pragma once

#include <dnnl.hpp>

#include <vector>

#include "lmask/graph.h"

namespace lmask::backends::onednn {

struct Step {
  std::vector<dnnl::primitive> prims;  // run in order, all on the same src/dst
  std::vector<dnnl::memory::desc> src; // the input layouts the primitive reads, per input
  dnnl::memory::desc dst;              // the layout it writes
  dnnl::memory::desc value;            // how readers see it: dst, or a reshape of it (flatten)
  dnnl::memory::desc weights;          // the layout it wants its weights in; zero desc: none
  dnnl::memory::desc scratch;          // its scratchpad (the caller provides it)
};

// Node `id` of `g` reading `src` (one layout per input; format_tag::any for
// the network input, the primitive then picks: read it back from
// Step::src). For a conv with a residual, src[1] is the residual's layout
// and the output takes it. `channels` is every node's channel count.
// Throws Unsupported naming the node for an op or parameters oneDNN has no
// primitive for here, std::runtime_error if oneDNN refuses one.
Step make_step(const Graph& g, int id, const std::vector<dnnl::memory::desc>& src, const std::vector<int>& channels,
               const dnnl::engine& engine);

// The plain (PyTorch) layout of a conv's or linear node's weights: oihw, or
// goihw for a grouped conv, [O,I,1,1] for linear; the layout the Tensor
// already has. `out_channels` is the node's (its weights may be gone); a
// linear node reading a 2-D [N,I] value (another linear's) has [O,I] ones.
dnnl::memory::desc plain_weights(const Node& node, int in_channels, int out_channels, int src_rank = 4);

// The dimensions of node `id`'s output for inputs of dimensions `src`.
dnnl::memory::dims out_dims(const Graph& g, int id, const std::vector<dnnl::memory::dims>& src,
                            const std::vector<int>& channels);

}  // namespace lmask::backends::onednn
