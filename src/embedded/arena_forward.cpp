// arena_forward.cpp — the embedded forward: masked_forward (masked_forward.h)
// over the graph, with ops that run each step on raw pointers into the
// buffers the plan gave each node (embedded.h, arena_plan.cpp).
//
// Rules as in mask_rules.h; what differs from the native ops is where
// values live and how the conv runs:
// - masked convs are computed densely (the embedded target runs one
//   thread, and the dense path needs no position lists in the arena), after
//   rules::fill_reach fill steps: the rule's k steps change nothing the
//   kept outputs read beyond those;
// - the fill runs in place on the conv's input where the conv reads it
//   last, else on a copy;
// - a residual add the plan puts in the residual's buffer runs inside the
//   conv's GEMM (it accumulates into the residual), else after it;
// - without a mask, every mask step is nothing: the rules then reduce to
//   the clean ops, so the same walk is the clean forward.
#include <algorithm>
#include <cstdint>

#include "arena_steps.h"
#include "lmask/arena_ops.h"
#include "lmask/embedded.h"
#include "lmask/kernels.h"
#include "lmask/masked_forward.h"

namespace lmask {

namespace {

class ArenaOps : public NoSpans {
 public:
  ArenaOps(const Graph& g, const ArenaPlan& plan, void* arena, const float* x, const float* mask, ArenaUse* use)
      : g_(g), plan_(plan), base_(static_cast<unsigned char*>(arena)), x_(x), m_(mask), use_(use) {}

  // The output node's value, into the caller's buffer.
  void result(float* out) const {
    const std::size_t count = shape(plan_.output).numel();
    std::copy(value(plan_.output), value(plan_.output) + count, out);
  }

  bool runs(int id) const { return plan_.nodes[id].runs; }
  void start() {
    const Shape& s = shape(0);
    std::copy(x_, x_ + s.numel(), value(0));
    if (!m_) return;
    std::copy(m_, m_ + std::size_t(s.n) * s.h * s.w, mask_of(0));
    arena::apply_mask(value(0), mask_of(0), s);
  }
  void mask(int id, const MaskRule& r) {
    if (!m_ || r.kind == MaskRule::same) return;  // same: the plan gave the node its input's mask
    const Node& node = g_.nodes[id];
    const Shape& s = shape(id);
    const Shape& in = shape(node.inputs[0]);
    const std::size_t count = std::size_t(s.n) * s.h * s.w;
    float* m = mask_of(id);
    switch (r.kind) {
      case MaskRule::window:
        kernels::window_any(m, in_mask(id), s.n, in.h, in.w, s.h, s.w, r.kernel, r.stride, r.padding, r.dilation);
        if (r.times_second) arena::multiply_mask(m, in_mask(id, 1), count);
        return;
      case MaskRule::adaptive: kernels::bins_any(m, in_mask(id), s.n, in.h, in.w, r.bins); return;
      case MaskRule::product:
        std::copy(in_mask(id), in_mask(id) + count, m);
        arena::multiply_mask(m, in_mask(id, 1), count);
        return;
      case MaskRule::majority: {  // count the visible inputs per position, then the rule
        std::fill(m, m + count, 0.f);
        for (std::size_t k = 0; k < node.inputs.size(); ++k) {
          const float* mk = in_mask(id, k);
          for (std::size_t i = 0; i < count; ++i) m[i] += mk[i] != 0.f ? 1.f : 0.f;
        }
        const int n = static_cast<int>(node.inputs.size());
        for (std::size_t i = 0; i < count; ++i) m[i] = rules::majority_visible(static_cast<int>(m[i]), n);
        return;
      }
      case MaskRule::ends: std::fill(m, m + count, 1.f); return;
      case MaskRule::same: return;
    }
  }
  void conv(int id, bool relu) {
    const Node& node = g_.nodes[id];
    const ArenaNode& a = plan_.nodes[id];
    const ConvParams& p = node.conv;
    const int src = node.inputs[0];
    const Shape& xs = shape(src);
    const Shape& ys = shape(id);
    const float* x = value(src);
    if (m_ && plan_.fill == Fill::neighbour_average && a.fill >= 0) {
      float* filled = a.fill_copy >= 0 ? take(a.fill_copy, xs.numel()) : value(src);
      if (filled != x) std::copy(x, x + xs.numel(), filled);
      arena::fill(filled, in_mask(id), xs, arena_steps::fill_steps(p),
                  take(a.fill, arena::fill_scratch_floats(xs.h, xs.w)));
      x = filled;
    }
    const int chunk = arena::chunk_columns(p, ys.h * ys.w, plan_.column_budget);
    float* cols = chunk ? take(a.columns, std::size_t(chunk) * p.col_rows()) : nullptr;
    const float* bias = node.bias.empty() ? nullptr : node.bias.data();
    float* y = value(id);
    if (m_ && plan_.fill == Fill::renorm) {  // conv(x) * (1/c) + b
      float* scale = take(a.renorm_scale, std::size_t(ys.n) * ys.h * ys.w);
      arena::conv(y, x, xs, p, node.weight.data(), nullptr, false, false, cols, plan_.column_budget);
      arena::renorm_scale(scale, in_mask(id), xs, p, ys.h, ys.w);
      arena::scale_bias_relu(y, scale, bias, ys, relu);
    } else {
      // Fused: the GEMM adds into the residual, then the relu the add's rule
      // has after it (masked_forward asks for it in residual_add).
      const bool fused = adds_in_gemm(id);
      const bool fused_relu = node.fused_activation && node.activation == Activation::relu;
      arena::conv(y, x, xs, p, node.weight.data(), bias, fused, fused ? fused_relu : relu, cols,
                  plan_.column_budget);
    }
    if (m_ && !node.has_residual()) arena::apply_mask(y, mask_of(id), ys);  // residual_add masks it
  }
  void residual_add(int id, bool relu) {
    const Shape& s = shape(id);
    if (!adds_in_gemm(id)) kernels::add(value(id), in(id, 1), s.numel(), relu);
    if (m_) arena::apply_mask(value(id), mask_of(id), s);
  }
  void from_input(int id) {
    const int src = g_.nodes[id].inputs[0];
    if (plan_.nodes[id].value != plan_.nodes[src].value)
      std::copy(value(src), value(src) + shape(id).numel(), value(id));
  }
  void batchnorm(int id) { kernels::batchnorm(value(id), shape(id), g_.nodes[id].bn); }
  void activate(int id, Activation f) { kernels::activate(value(id), shape(id).numel(), f); }
  void add(int id) { kernels::add(value(id), in(id, 1), shape(id).numel(), false); }
  void channel_scale(int id) { kernels::channel_scale(value(id), in(id, 1), shape(id)); }
  void remask(int id) {
    if (m_) arena::apply_mask(value(id), mask_of(id), shape(id));
  }
  void fill(int id) {
    if (!m_ || !arena_steps::fills(g_.nodes[id], plan_.fill)) return;
    const Shape& s = shape(id);
    arena::fill(value(id), in_mask(id), s, 1, take(plan_.nodes[id].fill, arena::fill_scratch_floats(s.h, s.w)));
  }
  void pool(int id) {
    const Node& node = g_.nodes[id];
    const Shape& s = shape(id);
    const Shape& xs = shape(node.inputs[0]);
    if (node.op == Op::maxpool) kernels::maxpool(value(id), in(id), xs, node.pool, s.h, s.w);
    else kernels::avgpool(value(id), in(id), xs, node.pool, s.h, s.w);
  }
  void masked_average(int id) {
    const Shape& s = shape(id);
    const Shape& xs = shape(g_.nodes[id].inputs[0]);
    if (m_ && !g_.nodes[id].allmean) kernels::masked_adaptive_avgpool(value(id), in(id), in_mask(id), xs, s.h);
    else kernels::adaptive_avgpool(value(id), in(id), xs, s.h, s.w);
  }
  void concat(int id) {  // per image, each input's [C_i,H,W] in turn
    const Shape& s = shape(id);
    float* y = value(id);
    for (int n = 0; n < s.n; ++n)
      for (int src : g_.nodes[id].inputs) {
        const std::size_t count = shape(src).image_size();
        const float* x = value(src) + n * count;
        y = std::copy(x, x + count, y);
      }
  }
  void linear(int id) {
    const Node& node = g_.nodes[id];
    const Shape& xs = shape(node.inputs[0]);
    arena::linear(value(id), in(id), node.weight.data(), node.bias.empty() ? nullptr : node.bias.data(), xs.n,
                  static_cast<int>(xs.image_size()), node.weight.n());
  }
  void alias(int) {}     // the plan gave the node its input's buffer
  void finished(int) {}  // the plan's buffers outlive every reader

 private:
  const Shape& shape(int id) const { return plan_.shapes[id]; }
  // Buffer `b`, of which this step uses `floats` (recorded for tests).
  float* take(int b, std::size_t floats) const {
    if (use_) use_->floats[b] = std::max(use_->floats[b], floats);
    return reinterpret_cast<float*>(base_ + plan_.buffers[b].offset);
  }
  float* value(int id) const { return take(plan_.nodes[id].value, shape(id).numel()); }
  float* mask_of(int id) const {
    const Shape& s = shape(id);
    return take(plan_.nodes[id].mask, std::size_t(s.n) * s.h * s.w);
  }
  const float* in(int id, std::size_t k = 0) const { return value(g_.nodes[id].inputs[k]); }
  const float* in_mask(int id, std::size_t k = 0) const { return mask_of(g_.nodes[id].inputs[k]); }
  // Whether conv `id`'s residual add runs inside its GEMM: the plan put its
  // value in the residual's buffer.
  bool adds_in_gemm(int id) const {
    const Node& node = g_.nodes[id];
    return node.has_residual() && plan_.nodes[id].value == plan_.nodes[node.inputs[1]].value;
  }

  const Graph& g_;
  const ArenaPlan& plan_;
  unsigned char* base_;
  const float* x_;
  const float* m_;  // the input mask; null: the clean forward
  ArenaUse* use_;
};

}  // namespace

bool forward_arena(float* out, const float* x, const float* mask, const Graph& g, const ArenaPlan& plan,
                   void* arena, ArenaUse* use) {
  if (!out || !x || !arena) return false;
  if (reinterpret_cast<std::uintptr_t>(arena) % alignof(float) != 0) return false;
  if (!arena_steps::plan_fits(g, plan, mask != nullptr, use)) return false;
  ArenaOps ops(g, plan, arena, x, mask, use);
  masked_forward(g, plan.output, ops);
  ops.result(out);
  return true;
}

}  // namespace lmask
