// arena_forward.h — the embedded forward (embedded.h) on Tensors, for the
// tests that run it (test_embedded.cpp, and the op table's embedded column
// in test_op_table.cpp), with the arena's promises checked on every run:
// nothing written outside the arena, and every buffer of the plan used to
// exactly its planned size (the plan is tight).
#pragma once

#include <cstdint>
#include <vector>

#include <doctest/doctest.h>

#include "lmask/embedded.h"
#include "lmask/graph.h"
#include "lmask/mask.h"

namespace lmask::testing {

// An arena with guard bytes on both sides, to catch writes outside it.
struct GuardedArena {
  static constexpr std::size_t kGuard = 4096;
  static constexpr unsigned char kByte = 0xA5;
  std::vector<unsigned char> bytes;
  std::size_t size;
  explicit GuardedArena(std::size_t arena_bytes) : bytes(arena_bytes + 2 * kGuard + 64, kByte), size(arena_bytes) {}
  void* arena() {  // 64-byte aligned inside the vector
    const auto base = reinterpret_cast<std::uintptr_t>(bytes.data() + kGuard);
    return reinterpret_cast<void*>((base + 63) / 64 * 64);
  }
  bool guards_intact() {
    const unsigned char* a = static_cast<unsigned char*>(arena());
    for (const unsigned char* p = bytes.data(); p < a; ++p)
      if (*p != kByte) return false;
    for (const unsigned char* p = a + size; p < bytes.data() + bytes.size(); ++p)
      if (*p != kByte) return false;
    return true;
  }
};

// The value of g.output for x, or for the layer-masked forward of (x * m, m)
// when m is given, through forward_arena on a plan made for it here.
inline Tensor arena_forward(const Graph& g, const Tensor& x, const Mask* m, Fill fill = Fill::neighbour_average,
                            std::size_t budget = kDefaultColumnBudget) {
  const ArenaPlan plan = plan_arena(g, x.n(), x.h(), x.w(), m != nullptr, budget, fill);
  GuardedArena arena(plan.arena_bytes);
  Tensor out(plan.shapes[plan.output]);
  ArenaUse use(plan);
  REQUIRE(forward_arena(out.data(), x.data(), m ? m->tensor().data() : nullptr, g, plan, arena.arena(), &use));
  CHECK(arena.guards_intact());
  for (std::size_t b = 0; b < plan.buffers.size(); ++b) {
    const ArenaBuffer& buffer = plan.buffers[b];
    INFO("the " << arena_buffer_kind(buffer.kind) << " buffer of " << node_label(g, buffer.node));
    CHECK(use.floats[b] == buffer.floats);
  }
  return out;
}

}  // namespace lmask::testing
