// arena_plan.cpp — sizes the embedded forward's arena by walking the
// network's shapes exactly as arena_forward.cpp walks its layers.
//
// Every slot gets the most any layer puts in it, and the slots are laid out
// once: the persistent ones first, then one region that the stem phase and
// the block phase share (the stem's input and output are dead once the
// max-pool has run). tests/test_embedded.cpp checks that a forward fills
// every slot to exactly this size and writes nothing outside the arena.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "lmask/arena_ops.h"
#include "lmask/embedded.h"

namespace lmask {

namespace {

constexpr std::size_t kSlotAlign = 64;  // bytes; a cache line, an AVX-512 load

std::size_t aligned_bytes(std::size_t floats) {
  return (floats * sizeof(float) + kSlotAlign - 1) / kSlotAlign * kSlotAlign;
}

std::size_t tensor_bytes(const Tensor& t) { return t.numel() * sizeof(float); }

// Lays out slots [first, last] from byte `start`; returns the end.
std::size_t lay_out(ArenaPlan& plan, int first, int last, std::size_t start) {
  for (int s = first; s <= last; ++s) {
    plan.offset[s] = start;
    start += aligned_bytes(plan.floats[s]);
  }
  return start;
}

}  // namespace

const char* arena_slot_name(int slot) {
  static const char* const names[kSlotCount] = {
      "columns", "fill", "features", "wide_a", "mask_wide_a", "mask_wide_b", "mask_inner0",
      "mask_inner1", "input", "stem", "mask_input", "mask_stem", "wide_b", "inner0", "inner1"};
  return slot >= 0 && slot < kSlotCount ? names[slot] : "?";
}

ArenaPlan plan_arena(const ResNet& net, int batch, int height, int width, bool masked,
                     std::size_t column_budget) {
  if (batch < 1 || height < 1 || width < 1)
    throw std::invalid_argument("arena plan: batch, height and width must be positive");
  if (column_budget < 1) throw std::invalid_argument("arena plan: the column budget must be positive");
  ArenaPlan plan;
  plan.batch = batch, plan.height = height, plan.width = width;
  plan.masked = masked;
  plan.column_budget = column_budget;
  auto need = [&plan](int slot, std::size_t floats) { plan.floats[slot] = std::max(plan.floats[slot], floats); };
  auto mask_floats = [masked](const Shape& s) { return masked ? std::size_t(s.n) * s.h * s.w : 0; };
  auto check = [&](const Shape& s, const char* where) {
    if (s.h < 1 || s.w < 1)
      throw std::invalid_argument("arena plan: an input of " + std::to_string(height) + "x" + std::to_string(width) +
                                  " leaves nothing after " + where);
  };
  // One conv of the network: its im2col chunk and fill scratch; returns its output shape.
  auto conv = [&](const ConvBN& layer, const Shape& in) {
    if (!layer.bn.empty()) throw std::invalid_argument("arena plan: the network must be loaded with BatchNorm folded");
    const ConvParams& p = layer.conv;
    const Shape out = p.out_shape(in);
    check(out, "a convolution");
    need(kSlotColumns, std::size_t(arena::chunk_columns(p, out.h * out.w, column_budget)) * p.col_rows());
    if (masked && p.kernel > 1) need(kSlotFill, arena::fill_scratch_floats(in.h, in.w));
    plan.weight_bytes += tensor_bytes(layer.weight) + tensor_bytes(layer.bias);
    return out;
  };

  // Stem: input (times m) -> conv1 -> max-pool into wide A.
  const Shape x{batch, 3, height, width};
  need(kSlotInput, x.numel());
  need(kSlotMaskInput, mask_floats(x));
  const Shape stem = conv(net.stem(), x);
  need(kSlotStem, stem.numel());
  need(kSlotMaskStem, mask_floats(stem));
  Shape t{batch, stem.c, pool_out_size(stem.h, 3, 2, 1), pool_out_size(stem.w, 3, 2, 1)};
  check(t, "the max-pool");
  const int wide[2] = {kSlotWideA, kSlotWideB}, mask_wide[2] = {kSlotMaskWideA, kSlotMaskWideB};
  const int inner[2] = {kSlotInner0, kSlotInner1}, mask_inner[2] = {kSlotMaskInner0, kSlotMaskInner1};
  int cur = 0;
  need(wide[cur], t.numel());
  need(mask_wide[cur], mask_floats(t));

  // Blocks: the downsample (if any) into the other wide slot, the inner convs
  // alternating between the inner slots, the last conv added into the identity.
  for (const Block& block : net.blocks()) {
    Shape identity = t;
    if (block.has_downsample) {
      identity = conv(block.downsample, t);
      need(wide[1 - cur], identity.numel());
      need(mask_wide[1 - cur], mask_floats(identity));
      cur = 1 - cur;
    }
    Shape u = t;
    for (std::size_t i = 0; i < block.convs.size(); ++i) {
      u = conv(block.convs[i], u);
      if (i + 1 < block.convs.size()) need(inner[i % 2], u.numel());
      need(mask_inner[i % 2], mask_floats(u));
    }
    if (u != identity)
      throw std::invalid_argument("arena plan: a block's output " + u.str() + " does not match its identity " +
                                  identity.str());
    t = u;
  }
  if (t.c != net.fc_weight().c())
    throw std::invalid_argument("arena plan: the features do not match the fc layer");
  need(kSlotFeatures, std::size_t(batch) * t.c);
  plan.weight_bytes += tensor_bytes(net.fc_weight()) + tensor_bytes(net.fc_bias());

  const std::size_t shared = lay_out(plan, kSlotColumns, kSlotMaskInner1, 0);
  const std::size_t stem_end = lay_out(plan, kSlotInput, kSlotMaskStem, shared);
  const std::size_t blocks_end = lay_out(plan, kSlotWideB, kSlotInner1, shared);
  plan.arena_bytes = std::max(stem_end, blocks_end);
  return plan;
}

}  // namespace lmask
