// embedded.h — the embedded forward: a loaded ResNet's clean and layer-masked
// forward out of one caller-owned arena whose exact size is computed up front.
//
// plan_arena walks the network's shapes once and sizes a fixed set of slots
// (activations, masks, im2col chunks, fill scratch); forward_arena runs the
// flat list of layers (arena_ops.h) inside them. The forward allocates
// nothing, starts no thread and throws nothing: a plan that does not fit the
// network or input makes it return false before it touches anything.
// Masked convs run densely (every output computed, removed ones zeroed): the
// values are the spec's (shared/spec/LAYER_MASKING.md), not its speed-up.
// Needs a network loaded with BatchNorm folded (the default LoadOptions).
#pragma once

#include <cstddef>

#include "lmask/resnet.h"

namespace lmask {

// Floats one im2col chunk may take: 1 MiB, enough for 1783 output columns of
// the 7x7 stem; a smaller budget trades arena for more, thinner GEMMs.
constexpr std::size_t kDefaultColumnBudget = std::size_t(1) << 18;

// The arena's slots. Two wide slots alternate as block input and output;
// a block's inner convs use the two inner slots.
enum ArenaSlot {
  kSlotColumns,     // one im2col chunk
  kSlotFill,        // the fill's three scratch planes (masked only)
  kSlotFeatures,    // pooled features [N, F]
  kSlotWideA,       // block activations, alternating with kSlotWideB
  kSlotMaskWideA,   // their masks (masked only)
  kSlotMaskWideB,
  kSlotMaskInner0,
  kSlotMaskInner1,
  // Stem phase: dead once the max-pool has written kSlotWideA ...
  kSlotInput,       // x (times m), filled in place before the stem conv
  kSlotStem,        // conv1 output [N,64,H/2,W/2]
  kSlotMaskInput,
  kSlotMaskStem,
  // ... so the block phase reuses the same bytes.
  kSlotWideB,
  kSlotInner0,
  kSlotInner1,
  kSlotCount
};
const char* arena_slot_name(int slot);

struct ArenaPlan {
  int batch = 0, height = 0, width = 0;
  bool masked = true;  // sized for forward_arena with a mask (else clean only)
  std::size_t column_budget = kDefaultColumnBudget;
  std::size_t floats[kSlotCount] = {};   // what each slot must hold
  std::size_t offset[kSlotCount] = {};   // its byte offset in the arena (64-aligned)
  std::size_t arena_bytes = 0;           // the whole arena
  std::size_t weight_bytes = 0;          // the loaded network's parameters (float32)
};

// The plan for `batch` images of height x width (clean only when !masked).
// Throws std::invalid_argument for an input too small for the network (a
// stage's output would be empty) or a network with unfolded BatchNorm.
ArenaPlan plan_arena(const ResNet& net, int batch, int height, int width, bool masked = true,
                     std::size_t column_budget = kDefaultColumnBudget);

// What a forward actually used of each slot (floats), for tests.
struct ArenaUse {
  std::size_t floats[kSlotCount] = {};
};

// logits [N, classes] = the forward of x [N,3,H,W] (normalised image), or the
// layer-masked forward of (x * m, m) when mask [N,1,H,W] (0/1, 1 = visible)
// is given. arena: plan.arena_bytes bytes, 64-byte aligned. Returns false,
// having written nothing, when the plan is not the one this network and
// input need (or is clean-only and a mask is given).
bool forward_arena(float* logits, const float* x, const float* mask, const ResNet& net,
                   const ArenaPlan& plan, void* arena, ArenaUse* use = nullptr);

}  // namespace lmask
