// cuda_clean.cpp — the unmasked forward on the GPU: node by node over the
// fused graph, each op one kernel, cuBLAS call or strided copy (concat) on
// the stream, every op of graph.h.
#include <stdexcept>
#include <string>

#include "cuda_error.h"
#include "cuda_net.h"
#include "cuda_plan.h"
#include "kernels.h"

namespace lmask::backends::cuda {

void CudaNet::run_clean_node(Plan& plan, int id) {
  const Node& node = graph_.nodes[id];
  const int src = node.inputs[0];
  const Shape& in = plan.shapes[src];
  const Shape& out = plan.shapes[id];
  switch (node.op) {
    case Op::conv2d:  // + bias [+ residual] [then its fused activation], in one epilogue
      conv_dense(conv_context(plan), device_conv(id), planes(in, out), plan.value[src], plan.value[id],
                 node.has_residual() ? plan.value[node.inputs[1]] : nullptr, nullptr,
                 PostActivation{node.fused_activation, node.activation});
      return;
    case Op::batchnorm:
      take_input(plan, id);
      batchnorm_in_place(plan, id);
      return;
    case Op::activation:
      take_input(plan, id);
      activate_in_place(plan, id, node.activation);
      return;
    case Op::maxpool:  // ceil mode: the output's size says so, and past-the-input positions never win
      maxpool(plan.value[id], plan.value[src], in.c, planes(in, out), node.pool.kernel, node.pool.stride,
              node.pool.padding, nullptr, stream_);
      return;
    case Op::avgpool:
      avgpool_window(plan.value[id], plan.value[src], in.c, planes(in, out), node.pool, nullptr, stream_);
      return;
    case Op::global_avgpool:
      avgpool(plan.value[id], plan.value[src], nullptr, in.n, in.c, int(in.plane_size()), stream_);
      return;
    case Op::adaptive_avgpool:
      adaptive_avgpool(plan.value[id], plan.value[src], nullptr, in.n, in.c, in.h, in.w, node.out_size, stream_);
      return;
    case Op::add:
      take_input(plan, id);
      add_second_input(plan, id);
      return;
    case Op::concat: concat_inputs(plan, id); return;
    case Op::channel_scale:
      take_input(plan, id);
      scale_channels(plan, id);
      return;
    case Op::linear: linear(plan, id); return;
    case Op::flatten:
    case Op::identity: return;  // the input's storage, read as this node's shape
    case Op::fill_step: take_input(plan, id); return;  // clean: the input as it is
    case Op::input: break;
  }
  throw std::logic_error("cuda: " + node_label(graph_, id) + " has no clean kernel");  // check_supported refused it
}

Tensor CudaNet::run(const Tensor& x, int until) {
  if (until < 0 || until >= graph_.size()) throw std::out_of_range("cuda: no graph node " + std::to_string(until));
  Plan& plan = plan_for(x.shape());
  const std::vector<bool> runs = needed_for(graph_, until);
  upload(plan, x);
  for (int id = 1; id <= until; ++id)
    if (runs[id]) run_clean_node(plan, id);
  return download(plan, until);
}

}  // namespace lmask::backends::cuda
