// onednn_layers.h — one LayerGraph layer as a oneDNN primitive at one input
// shape (private to the oneDNN backend).
//
// Each layer becomes one primitive: a convolution with its bias, the residual
// join as a sum post-op and the ReLU as an eltwise post-op after it; a
// pooling; an inner product. Layouts are left to oneDNN (format_tag::any)
// except where the data already has one: a layer reads its input in the
// layout its producer chose, and a conv with a residual writes in the
// identity's layout (it writes into the identity's memory). So no reorder
// happens between layers. What this is not: memory planning (onednn_net.cpp).
#pragma once

#include <dnnl.hpp>

#include "lmask/backend.h"

namespace lmask::backends::onednn {

struct Step {
  dnnl::primitive prim;
  dnnl::memory::desc src;      // the input layout the primitive reads
  dnnl::memory::desc dst;      // the layout it writes
  dnnl::memory::desc weights;  // the layout it wants its weights in; zero desc: none
  dnnl::memory::desc scratch;  // its scratchpad (the caller provides it)
};

// The layer `l` reading `src`: a concrete layout, or format_tag::any for the
// network input (the primitive then picks; read it back from Step::src).
// `residual` is the identity's layout for a conv with a residual, else null.
// Throws std::runtime_error naming the layer and shape if oneDNN refuses it.
Step make_step(const Layer& l, const dnnl::memory::desc& src, const dnnl::memory::desc* residual,
               const dnnl::engine& engine);

// The plain (PyTorch) layout of a layer's weights: oihw, or goihw for a
// grouped conv; the layout the Tensor already has.
dnnl::memory::desc plain_weights(const Layer& l, const dnnl::memory::desc& src);

// The dimensions of the layer's output for an input of dimensions `src`.
dnnl::memory::dims out_dims(const Layer& l, const dnnl::memory::dims& src);

}  // namespace lmask::backends::onednn
