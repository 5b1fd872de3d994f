// embedded.h — the embedded forward: a graph's clean and layer-masked
// forward (graph.h, masked_forward.h) out of one caller-owned arena whose
// exact size is computed up front.
//
// plan_arena works out once where every buffer of the forward lives: each
// node's value and mask, and each conv's scratch. Their sizes come from
// infer_shapes; their lifetimes from ValueLifetimes (value_lifetimes.h): a
// value lives from the node that makes it to its last reader; identity and
// flatten pass their input's buffer on; a node that reads its input last
// and works in place (batchnorm, an activation, add, channel_scale, a
// conv's fill) writes into it; a conv that reads its residual last adds
// into it inside its GEMM; a mask the rule keeps (mask_rule: `same`) is its
// input's. Buffers are then laid out largest first, each at the lowest
// offset that no buffer live at the same time takes.
//
// forward_arena runs masked_forward over the graph with ops on raw pointers
// into that arena (arena_ops.h, kernels.h); without a mask the same walk
// runs every mask step as nothing, which is the clean forward. It allocates
// nothing and throws nothing, and in the embedded build (no OpenMP, the
// portable SGEMM) starts no thread: a plan that does not fit the graph and
// input makes it return false before it writes anything.
// Masked convs run densely (every output computed, removed ones zeroed):
// the values are the spec's (shared/spec/LAYER_MASKING.md), not its
// speed-up. Any graph runs; fold its BatchNorms and fuse its epilogues
// first (graph_passes.h) for a smaller arena and fewer passes.
#pragma once

#include <cstddef>
#include <vector>

#include "lmask/graph.h"
#include "lmask/masked_ops.h"

namespace lmask {

// Floats one im2col chunk may take: 1 MiB, enough for 1783 output columns of
// the 7x7 stem; a smaller budget trades arena for more, thinner GEMMs.
constexpr std::size_t kDefaultColumnBudget = std::size_t(1) << 18;

// One buffer of the arena.
struct ArenaBuffer {
  enum Kind {
    value,         // a node's value (and those of the nodes that go on in it)
    mask,          // a node's mask [N,1,H,W] (and those of the nodes that keep it)
    columns,       // a conv's im2col chunk
    fill,          // a conv's fill scratch: three planes of its input
    fill_copy,     // a conv's input, filled apart because a later node reads it too
    renorm_scale,  // a conv's 1/c per output (Fill::renorm)
  };
  Kind kind = value;
  int node = 0;              // the node that makes it (scratch: that uses it)
  int first = 0, last = 0;   // live from node `first` to node `last`, both included
  std::size_t floats = 0;
  std::size_t offset = 0;    // bytes from the arena's start, 64-aligned
};
const char* arena_buffer_kind(ArenaBuffer::Kind kind);

// Where one node's buffers are: indices into ArenaPlan::buffers, -1 none.
struct ArenaNode {
  bool runs = false;        // needed for the output
  Op op = Op::input;        // the node as planned: forward_arena refuses a
  std::vector<int> inputs;  // graph whose node differs
  int value = -1;           // its own, or its input's (identity, flatten, in place)
  int mask = -1;            // masked plans: its own, or its input's
  int columns = -1;         // conv: one im2col chunk (none for a pointwise conv)
  int fill = -1;            // conv: the fill's scratch, where the fill has steps
  int fill_copy = -1;       // conv: where its input is filled apart
  int renorm_scale = -1;    // conv, Fill::renorm
};

struct ArenaPlan {
  int batch = 0, height = 0, width = 0;
  bool masked = true;  // sized for forward_arena with a mask (else clean only)
  Fill fill = Fill::neighbour_average;  // the masked convs' fill (Fill::none, Fill::renorm too)
  std::size_t column_budget = kDefaultColumnBudget;
  std::size_t arena_bytes = 0;   // the whole arena
  std::size_t weight_bytes = 0;  // the parameters of the nodes that run (float32)
  int output = 0;                // the node forward_arena gives: the graph's output
  std::vector<Shape> shapes;     // per node: its value's shape (infer_shapes)
  std::vector<ArenaNode> nodes;  // per node
  std::vector<ArenaBuffer> buffers;
};

// The plan for `batch` images of height x width through `g` to g.output
// (clean only when !masked). Throws std::invalid_argument for a batch, size
// or budget below 1, a graph without its output node, or an input the graph
// cannot take (infer_shapes names the node).
ArenaPlan plan_arena(const Graph& g, int batch, int height, int width, bool masked = true,
                     std::size_t column_budget = kDefaultColumnBudget, Fill fill = Fill::neighbour_average);

// What a forward actually used of each buffer (floats), for tests. Sized
// for its plan before the forward (which allocates nothing).
struct ArenaUse {
  ArenaUse() = default;
  explicit ArenaUse(const ArenaPlan& plan) : floats(plan.buffers.size(), 0) {}
  std::vector<std::size_t> floats;  // per buffer of the plan
};

// out = the value of g.output (logits [N, classes] for a classifier) for
// x [N,C,H,W], or of its layer-masked forward for (x * m, m) when mask
// [N,1,H,W] (0/1, 1 = visible) is given; out holds
// plan.shapes[plan.output].numel() floats. arena: plan.arena_bytes bytes,
// 64-byte aligned for speed (float-aligned at least). Returns false,
// having written nothing, when the plan is not the one this graph and
// input need (a different node, shape, or buffer too small or past the
// arena; a clean-only plan given a mask; `use` sized for another plan).
bool forward_arena(float* out, const float* x, const float* mask, const Graph& g, const ArenaPlan& plan,
                   void* arena, ArenaUse* use = nullptr);

}  // namespace lmask
