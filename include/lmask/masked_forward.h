// masked_forward.h — the layer-masked forward over a graph, written once for
// every backend.
//
// masked_forward walks the graph's nodes in order and gives each its row of
// mask_rules.h: first the node's output mask (mask_rule(), mask_plan.h),
// then its value, as the composition of rule steps below. A value is 0
// outside its mask between nodes (the forward starts from x * m), so
// "f(x * m)" is f(x) here. The rules decide what is computed; a backend only
// decides where values live and how each step runs, through its Ops:
//
//   bool runs(int id)            node `id` is needed for the asked-for node
//   void start()                 v0 = x * m, m0 = m
//   void mask(int id, const MaskRule& r)
//                                m'_id from the inputs' masks by r; with
//                                r.times_second (a conv with its residual
//                                add fused) also the conv's own window mask
//   void conv(int id, bool relu) the Conv2d rule on input 0 (fill, conv,
//                                zeroed outside the conv's own mask), with
//                                max(0, .) fused when `relu`
//   void residual_add(int id, bool relu)
//                                v = (v + x1) * m', then max(0, .) when `relu`
//   void from_input(int id)      v = input 0's value (in place when this node
//                                reads it last), for the in-place steps:
//   void batchnorm(int id)       v = BN(v)
//   void activate(int id, Activation f)   v = f(v)
//   void add(int id)             v = v + x1
//   void channel_scale(int id)   v = v * x1 (x1 [N,C,1,1])
//   void remask(int id)          v = v * m'
//   void fill(int id)            v = fill_1(v, m0) under the neighbour-average
//                                fill; v as it is under the others
//   void pool(int id)            v = maxpool or avgpool of input 0 (node.pool)
//   void masked_average(int id)  v = vismean per bin of input 0 (global or adaptive);
//                                mean_hw(x0) for a global pool with node.allmean
//   void concat(int id)          v = the inputs along C
//   void linear(int id)          v = x W^T + b (the mask has ended)
//   void alias(int id)           v = input 0 (flatten reshapes, identity)
//   void finished(int id)        the node's value is complete: observers,
//                                values no later node reads can go
//   int span_end(int id)         a span of nodes from `id` the backend runs
//                                as one op, its faster way (oneDNN's
//                                bottleneck chains on visible rows): the
//                                span's last node, or -1 (NoSpans: never)
//   void run_span(int first, int last)
//                                the span's value at `last`, by the same
//                                rules, from the values before `first`
//
// A backend may do the work of several steps in one (the native conv skips
// outputs no reader keeps, the embedded one adds the residual inside its
// GEMM); the tests hold each to the literal rules (tests/literal_masked.h).
// The forward itself allocates nothing and throws nothing: the embedded
// backend runs it inside a fixed arena.
#pragma once

#include "lmask/graph.h"
#include "lmask/mask_plan.h"

namespace lmask {

// For Ops that run every node one by one.
struct NoSpans {
  int span_end(int) const { return -1; }
  void run_span(int, int) {}
};

// Whether f(0) = 0, so f keeps removed positions at 0 without a mask pass.
constexpr bool keeps_zero(Activation f) { return f != Activation::sigmoid && f != Activation::hardsigmoid; }

template <class Ops>
void masked_forward(const Graph& g, int until, Ops& ops) {
  ops.start();
  for (int id = 1; id <= until; ++id) {
    if (!ops.runs(id)) continue;
    if (const int last = ops.span_end(id); last >= id) {
      ops.run_span(id, last);
      ops.finished(last);
      id = last;
      continue;
    }
    const Node& node = g.nodes[id];
    ops.mask(id, mask_rule(node));
    switch (node.op) {
      case Op::conv2d: {  // the conv rule, then its epilogue: the add's rule, the activation's
        const bool relu = node.fused_activation && node.activation == Activation::relu;
        ops.conv(id, relu && !node.has_residual());
        if (node.has_residual()) ops.residual_add(id, relu);
        if (node.fused_activation && !relu) {
          ops.activate(id, node.activation);
          if (!keeps_zero(node.activation)) ops.remask(id);
        }
        break;
      }
      case Op::batchnorm:  // BN(x * m) * m
        ops.from_input(id);
        ops.batchnorm(id);
        ops.remask(id);
        break;
      case Op::activation:  // f(x * m) * m
        ops.from_input(id);
        ops.activate(id, node.activation);
        if (!keeps_zero(node.activation)) ops.remask(id);
        break;
      case Op::maxpool:  // maxpool(x) * m': removed inputs are 0 and take part
      case Op::avgpool:  // avgpool(x) * m': the visible sum over the plain divisor
        ops.pool(id);
        ops.remask(id);
        break;
      case Op::global_avgpool:  // vismean(x, m), or allmean; the mask ends
      case Op::adaptive_avgpool: ops.masked_average(id); break;
      case Op::add:  // (x0 + x1) * m', m' = m0 * m1
        ops.from_input(id);
        ops.add(id);
        ops.remask(id);
        break;
      case Op::concat:  // cat(x_i) * m', m' the strict majority of the m_i
        ops.concat(id);
        ops.remask(id);
        break;
      case Op::channel_scale:  // x0 * x1, the mask of x0
        ops.from_input(id);
        ops.channel_scale(id);
        break;
      case Op::fill_step:  // fill_1(x, m), zero outside m' = dil(m; 3, 1, 1) by itself
        ops.from_input(id);
        ops.fill(id);
        break;
      case Op::linear: ops.linear(id); break;  // unchanged: the mask has ended
      case Op::flatten:
      case Op::identity: ops.alias(id); break;
      case Op::input: break;  // node 0 only
    }
    ops.finished(id);
  }
}

}  // namespace lmask
