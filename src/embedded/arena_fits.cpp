// arena_fits.cpp — the embedded forward's check of its plan before it
// writes anything: a plan made for another graph or input, or changed
// since, is refused, so the forward never reads or writes past a buffer or
// the arena. It allocates nothing and throws nothing: node_shape_if_fits is
// infer_shapes' rule for one node without either.
#include "arena_steps.h"
#include "lmask/arena_ops.h"
#include "lmask/mask_plan.h"

namespace lmask::arena_steps {

namespace {

// Whether buffer `b` exists and holds `floats` floats.
bool holds(const ArenaPlan& plan, int b, std::size_t floats) {
  return b >= 0 && static_cast<std::size_t>(b) < plan.buffers.size() && plan.buffers[b].floats >= floats;
}

// Whether node `id` shares a buffer with an input only where the forward
// (arena_forward.cpp) expects it to, so that no step reads a buffer it is
// writing: an alias passes its input's value on, an in-place step writes
// into input 0's, a conv adds into its residual's.
bool value_fits(const Graph& g, const ArenaPlan& plan, int id) {
  const Node& node = g.nodes[id];
  const int v = plan.nodes[id].value;
  if (!holds(plan, v, plan.shapes[id].numel())) return false;
  if (node.inputs.empty()) return true;
  bool shares = false;
  for (int in : node.inputs) shares = shares || plan.nodes[in].value == v;
  const int v0 = plan.nodes[node.inputs[0]].value;
  if (node.op == Op::identity || node.op == Op::flatten) return v == v0;
  if (works_in_place(node.op)) return !shares || v == v0;
  if (node.has_residual())  // never with the partial convolution, whose scale is the conv sum's alone
    return !shares || (plan.fill != Fill::renorm && v == plan.nodes[node.inputs[1]].value && v != v0);
  return !shares;
}

// A mask is its input's where the rule keeps it, else a buffer no input's
// mask is (the rules read their inputs' masks while they write).
bool mask_fits(const Graph& g, const ArenaPlan& plan, int id) {
  const Node& node = g.nodes[id];
  const Shape& s = plan.shapes[id];
  const int m = plan.nodes[id].mask;
  if (!holds(plan, m, std::size_t(s.n) * s.h * s.w)) return false;
  if (id > 0 && mask_rule(node).kind == MaskRule::same) return m == plan.nodes[node.inputs[0]].mask;
  for (int in : node.inputs)
    if (plan.nodes[in].mask == m) return false;
  return true;
}

// A conv's scratch, as large as its step needs.
bool scratch_fits(const Graph& g, const ArenaPlan& plan, int id) {
  const ConvParams& p = g.nodes[id].conv;
  const ArenaNode& a = plan.nodes[id];
  const Shape& s = plan.shapes[id];
  const Shape& in = plan.shapes[g.nodes[id].inputs[0]];
  const int chunk = arena::chunk_columns(p, s.h * s.w, plan.column_budget);
  if (chunk > 0 && !holds(plan, a.columns, std::size_t(chunk) * p.col_rows())) return false;
  if (!plan.masked) return true;
  if (fills(g.nodes[id], plan.fill))
    return holds(plan, a.fill, arena::fill_scratch_floats(in.h, in.w)) &&
           (a.fill_copy == -1 || holds(plan, a.fill_copy, in.numel()));
  if (plan.fill == Fill::renorm) return holds(plan, a.renorm_scale, std::size_t(s.n) * s.h * s.w);
  return true;
}

}  // namespace

bool plan_fits(const Graph& g, const ArenaPlan& plan, bool with_mask, const ArenaUse* use) {
  if (with_mask && !plan.masked) return false;
  if (plan.batch < 1 || plan.height < 1 || plan.width < 1 || plan.column_budget < 1) return false;
  const std::size_t count = g.nodes.size();
  if (plan.nodes.size() != count || plan.shapes.size() != count) return false;
  if (g.output < 0 || g.output >= g.size() || plan.output != g.output || !plan.nodes[g.output].runs) return false;
  if (use && use->floats.size() != plan.buffers.size()) return false;
  for (const ArenaBuffer& b : plan.buffers)
    if (b.offset % alignof(float) != 0 || b.offset > plan.arena_bytes ||
        b.floats > (plan.arena_bytes - b.offset) / sizeof(float))
      return false;
  const Shape in{plan.batch, g.in_channels, plan.height, plan.width};
  for (int id = 0; id <= g.output; ++id) {
    const ArenaNode& a = plan.nodes[id];
    const Node& node = g.nodes[id];
    if (!a.runs) continue;
    if (a.op != node.op || a.inputs != node.inputs) return false;
    for (int i : node.inputs)
      if (i < 0 || i >= id || !plan.nodes[i].runs) return false;
    const Shape want = node_shape_if_fits(g, id, plan.shapes.data(), in);
    if (want.n == 0 || want != plan.shapes[id]) return false;  // n = 0: it does not fit at all
    if (!value_fits(g, plan, id)) return false;
    if (plan.masked && !mask_fits(g, plan, id)) return false;
    if (node.op == Op::conv2d && !scratch_fits(g, plan, id)) return false;
    if (plan.masked && node.op == Op::fill_step && fills(node, plan.fill) &&
        !holds(plan, a.fill, arena::fill_scratch_floats(plan.shapes[id].h, plan.shapes[id].w)))
      return false;
  }
  return true;
}

}  // namespace lmask::arena_steps
