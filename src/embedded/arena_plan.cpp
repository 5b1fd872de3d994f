// arena_plan.cpp — where every buffer of the embedded forward lives
// (embedded.h): decided per node in the order the forward runs them, then
// laid out in one arena.
//
// Where a node writes into a buffer it did not make follows the native
// forwards' rule (ValueLifetimes::may_overwrite): an alias passes its
// input's buffer on; an in-place step writes into its input, and a conv
// fills its input in place, only when it is that input's last reader; a
// conv adds into its residual's buffer (inside its GEMM) only then too, and
// never with the partial convolution, whose scale is the conv sum's alone.
// tests/test_embedded.cpp checks that a forward uses every buffer to
// exactly its planned size and writes nothing outside the arena.
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <string>

#include "arena_steps.h"
#include "lmask/arena_ops.h"
#include "lmask/embedded.h"
#include "lmask/error.h"
#include "lmask/mask_plan.h"
#include "lmask/value_lifetimes.h"

namespace lmask {

namespace {

constexpr std::size_t kBufferAlign = 64;  // bytes; a cache line, an AVX-512 load

std::size_t aligned_bytes(std::size_t floats) {
  return (floats * sizeof(float) + kBufferAlign - 1) / kBufferAlign * kBufferAlign;
}

std::size_t parameter_bytes(const Node& node) {
  std::size_t floats = node.weight.numel() + node.bias.numel();
  if (node.op == Op::batchnorm)
    floats += node.bn.gamma.numel() + node.bn.beta.numel() + node.bn.mean.numel() + node.bn.var.numel();
  return floats * sizeof(float);
}

// The buffers of one plan, made node by node.
class Buffers {
 public:
  explicit Buffers(std::vector<ArenaBuffer>& buffers) : buffers_(buffers) {}
  // A new buffer live from `node` on (and at least at `node`).
  int add(ArenaBuffer::Kind kind, int node, std::size_t floats) {
    ArenaBuffer b;
    b.kind = kind, b.node = node, b.first = node, b.last = node, b.floats = floats;
    buffers_.push_back(b);
    return static_cast<int>(buffers_.size()) - 1;
  }
  // Buffer `b` is read up to node `last` (-1: no reader).
  void read_until(int b, int last) { buffers_[b].last = std::max(buffers_[b].last, last); }

 private:
  std::vector<ArenaBuffer>& buffers_;
};

// Offsets, largest buffer first (ties in the order they were made): each at
// the lowest offset where it overlaps no buffer placed already whose
// lifetime meets its own (TFLite's "greedy by size"). Returns the arena's
// size.
std::size_t lay_out(std::vector<ArenaBuffer>& buffers) {
  std::vector<int> order(buffers.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    const std::size_t x = aligned_bytes(buffers[a].floats), y = aligned_bytes(buffers[b].floats);
    return x != y ? x > y : a < b;
  });
  std::vector<int> placed, meeting;
  std::size_t arena = 0;
  for (int i : order) {
    ArenaBuffer& b = buffers[i];
    const std::size_t bytes = aligned_bytes(b.floats);
    meeting.clear();
    for (int j : placed)
      if (buffers[j].first <= b.last && b.first <= buffers[j].last) meeting.push_back(j);
    auto free_at = [&](std::size_t offset) {
      for (int j : meeting)
        if (offset < buffers[j].offset + aligned_bytes(buffers[j].floats) && buffers[j].offset < offset + bytes)
          return false;
      return true;
    };
    // The lowest free offset is 0 or where a meeting buffer ends.
    std::size_t offset = 0;
    if (!free_at(0)) {
      offset = SIZE_MAX;
      for (int j : meeting) {
        const std::size_t end = buffers[j].offset + aligned_bytes(buffers[j].floats);
        if (end < offset && free_at(end)) offset = end;
      }
    }
    b.offset = offset;
    arena = std::max(arena, offset + bytes);
    placed.push_back(i);
  }
  return arena;
}

}  // namespace

const char* arena_buffer_kind(ArenaBuffer::Kind kind) {
  switch (kind) {
    case ArenaBuffer::value: return "value";
    case ArenaBuffer::mask: return "mask";
    case ArenaBuffer::columns: return "columns";
    case ArenaBuffer::fill: return "fill";
    case ArenaBuffer::fill_copy: return "fill copy";
    case ArenaBuffer::renorm_scale: return "renorm scale";
  }
  return "?";
}

ArenaPlan plan_arena(const Graph& g, int batch, int height, int width, bool masked, std::size_t column_budget,
                     Fill fill) {
  if (batch < 1 || height < 1 || width < 1)
    throw std::invalid_argument("arena plan: batch, height and width must be positive");
  if (column_budget < 1) throw std::invalid_argument("arena plan: the column budget must be positive");
  if (g.output < 0 || g.output >= g.size())
    throw std::invalid_argument("arena plan: the graph's output, node " + std::to_string(g.output) + ", does not exist");
  ArenaPlan plan;
  plan.batch = batch, plan.height = height, plan.width = width;
  plan.masked = masked, plan.fill = fill, plan.column_budget = column_budget;
  plan.output = g.output;
  try {
    plan.shapes = infer_shapes(g, {batch, g.in_channels, height, width});
  } catch (const InputError& e) {
    throw std::invalid_argument("arena plan: an input of " + std::to_string(height) + "x" + std::to_string(width) +
                                ": " + e.what());
  }
  const int until = g.output;
  const std::vector<bool> runs = needed_for(g, until);
  const ValueLifetimes life(g, until, /*input_writable=*/true);  // the forward copies x into the arena
  Buffers buffers(plan.buffers);
  plan.nodes.resize(g.nodes.size());
  // The last node reading node id's value (aliases included), or the end
  // for the output.
  auto last_read = [&](int id) { return life.last_reader(life.root(id)); };

  for (int id = 0; id <= until; ++id) {
    if (!runs[id]) continue;
    const Node& node = g.nodes[id];
    const Shape& shape = plan.shapes[id];
    ArenaNode& a = plan.nodes[id];
    a.runs = true, a.op = node.op, a.inputs = node.inputs;
    plan.weight_bytes += parameter_bytes(node);
    const int in0 = node.inputs.empty() ? -1 : node.inputs[0];

    // Its value.
    if (node.op == Op::identity || node.op == Op::flatten)
      a.value = plan.nodes[in0].value;
    else if (arena_steps::works_in_place(node.op) && life.may_overwrite(in0, id))
      a.value = plan.nodes[in0].value;
    else if (node.has_residual() && fill != Fill::renorm && life.may_overwrite(node.inputs[1], id) &&
             plan.nodes[node.inputs[1]].value != plan.nodes[in0].value)
      a.value = plan.nodes[node.inputs[1]].value;  // the GEMM adds into the residual
    else
      a.value = buffers.add(ArenaBuffer::value, id, shape.numel());
    buffers.read_until(a.value, last_read(id));

    // Its mask, read by the node itself and by its readers.
    if (masked) {
      if (id > 0 && mask_rule(node).kind == MaskRule::same) a.mask = plan.nodes[in0].mask;
      else a.mask = buffers.add(ArenaBuffer::mask, id, std::size_t(shape.n) * shape.h * shape.w);
      buffers.read_until(a.mask, last_read(id));
    }

    // A conv's scratch and fill_step's, for its own step only.
    if (masked && node.op == Op::fill_step && arena_steps::fills(node, fill))
      a.fill = buffers.add(ArenaBuffer::fill, id, arena::fill_scratch_floats(shape.h, shape.w));
    if (node.op != Op::conv2d) continue;
    const ConvParams& p = node.conv;
    const Shape& in = plan.shapes[in0];
    if (const int chunk = arena::chunk_columns(p, shape.h * shape.w, column_budget))
      a.columns = buffers.add(ArenaBuffer::columns, id, std::size_t(chunk) * p.col_rows());
    if (!masked) continue;
    if (arena_steps::fills(node, fill)) {
      a.fill = buffers.add(ArenaBuffer::fill, id, arena::fill_scratch_floats(in.h, in.w));
      if (!life.may_overwrite(in0, id)) a.fill_copy = buffers.add(ArenaBuffer::fill_copy, id, in.numel());
    }
    if (fill == Fill::renorm)
      a.renorm_scale = buffers.add(ArenaBuffer::renorm_scale, id, std::size_t(shape.n) * shape.h * shape.w);
  }
  plan.arena_bytes = lay_out(plan.buffers);
  return plan;
}

}  // namespace lmask
