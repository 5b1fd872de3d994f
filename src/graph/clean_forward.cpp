// clean_forward.cpp — a Graph's unmasked forward on the native ops: one op
// call per node, each value dropped after its last reader.
#include <stdexcept>

#include "lmask/graph_forward.h"
#include "lmask/value_lifetimes.h"

namespace lmask {

namespace {

// A conv with its epilogue: + bias [+ residual] [then the activation].
Tensor run_conv(const Node& node, const Tensor& x, const Tensor* residual, Workspace& ws) {
  Tensor y = Tensor::uninitialized(node.conv.out_shape(x.shape()));
  const bool relu = node.fused_activation && node.activation == Activation::relu;
  conv2d(y, x, node.weight, node.bias, node.conv, ws, relu && !residual);
  if (residual) add(y, *residual, relu);
  if (node.fused_activation && !relu) activate(y, node.activation);
  return y;
}

}  // namespace

Tensor run_graph(const Graph& g, const Tensor& x, int until) {
  if (until < 0) until = g.output;
  const std::vector<bool> runs = needed_for(g, until);
  const ValueLifetimes life(g, until, /*input_writable=*/false);
  Workspace& ws = Workspace::for_this_thread();
  ws.gemm = sgemm;
  std::vector<Tensor> v(g.nodes.size());
  v[0] = x;
  for (int id = 1; id <= until; ++id) {
    if (!runs[id]) continue;
    const Node& node = g.nodes[id];
    const Tensor& in = v[node.inputs[0]];
    // The input itself when this node reads it last, else a copy: for the ops that work in place.
    auto writable = [&] { return life.may_overwrite(node.inputs[0], id) ? in : in.clone(); };
    Tensor y;
    switch (node.op) {
      case Op::conv2d: y = run_conv(node, in, node.has_residual() ? &v[node.inputs[1]] : nullptr, ws); break;
      case Op::batchnorm: y = writable(); batchnorm(y, node.bn); break;
      case Op::activation: y = writable(); activate(y, node.activation); break;
      case Op::maxpool:
        y = Tensor::uninitialized({in.n(), in.c(), node.pool.out_size(in.h()), node.pool.out_size(in.w())});
        maxpool2d(y, in, node.pool);
        break;
      case Op::avgpool:
        y = Tensor::uninitialized({in.n(), in.c(), node.pool.out_size(in.h()), node.pool.out_size(in.w())});
        avgpool2d(y, in, node.pool);
        break;
      case Op::global_avgpool:
      case Op::adaptive_avgpool: {
        const int s = node.op == Op::global_avgpool ? 1 : node.out_size;
        y = Tensor({in.n(), in.c(), s, s});
        adaptive_avgpool2d(y, in);
        break;
      }
      case Op::add: y = writable(); add(y, v[node.inputs[1]]); break;
      case Op::concat: {
        std::vector<Tensor> parts;
        int channels = 0;
        for (int i : node.inputs) parts.push_back(v[i]), channels += v[i].c();
        y = Tensor::uninitialized({in.n(), channels, in.h(), in.w()});
        concat_channels(y, parts);
        break;
      }
      case Op::channel_scale: y = writable(); channel_scale(y, v[node.inputs[1]]); break;
      case Op::linear:
        y = Tensor({in.n(), node.weight.n(), 1, 1});
        linear(y, in, node.weight, node.bias);
        break;
      case Op::flatten: y = in.reshaped({in.n(), in.c() * in.h() * in.w(), 1, 1}); break;
      case Op::identity: y = in; break;
      case Op::fill_step: y = writable(); break;  // masks only: its own storage, as the masked forward gives it
      case Op::input: throw std::logic_error("graph: a second input node");
    }
    v[id] = std::move(y);
    life.drop_after(id, v);
  }
  return v[until];
}

}  // namespace lmask
