// arena_forward.cpp — the embedded forward: a ResNet's layers (the nodes of
// resnet_graph.cpp, block by block), inside the slots of one arena. Not yet
// a graph forward (issue 16): it walks the ResNet's blocks itself.
//
// Layer rules as in the spec (shared/spec/LAYER_MASKING.md); what differs
// from the reference forwards is only where values live:
// - each conv's fill runs in place on its input. For a block's input that
//   the identity also reads (a basic block's first conv) this is safe: the
//   fill changes removed positions only, and the residual join multiplies
//   them by its mask, which is 0 wherever the block input's mask is 0;
// - the residual add is fused into the block's last conv (its GEMM adds into
//   the identity's slot), so a block needs no separate output slot;
// - masked convs are computed densely (the embedded target runs one thread,
//   and the dense path needs no position lists in the arena).
#include <algorithm>
#include <cstdint>

#include "lmask/arena_ops.h"
#include "lmask/embedded.h"
#include "lmask/mask_rules.h"

namespace lmask {

namespace {

// An activation in the arena; m is null in the clean forward.
struct ArenaAct {
  float* x;
  float* m;
  Shape s;
};

// The arena's slots by name, recording what each use takes.
class Slots {
 public:
  Slots(void* arena, const ArenaPlan& plan, ArenaUse* use)
      : base_(static_cast<unsigned char*>(arena)), plan_(plan), use_(use) {}
  float* take(int slot, std::size_t floats) {
    if (use_) use_->floats[slot] = std::max(use_->floats[slot], floats);
    return reinterpret_cast<float*>(base_ + plan_.offset[slot]);
  }
  std::size_t column_budget() const { return plan_.column_budget; }

 private:
  unsigned char* base_;
  const ArenaPlan& plan_;
  ArenaUse* use_;
};

std::size_t mask_floats(const Shape& s) { return std::size_t(s.n) * s.h * s.w; }

// Conv rule with the folded BatchNorm (and ReLU when `relu`): fill the
// input's removed neighbourhood (rules::fill_reach steps give every input a
// kept output reads its rule value), convolve, m' = pooled m, y * m'. With `accumulate` the conv
// adds into what y_slot holds (the identity) and the caller applies the
// joined mask.
ArenaAct conv_bn(Slots& slots, const ArenaAct& in, const ConvBN& layer, int y_slot, int mask_slot,
                 bool relu, bool accumulate) {
  const ConvParams& p = layer.conv;
  const Shape out = p.out_shape(in.s);
  float* y = slots.take(y_slot, out.numel());
  float* m_out = nullptr;
  if (in.m) {
    m_out = slots.take(mask_slot, mask_floats(out));
    if (p.kernel > 1)
      arena::fill(in.x, in.m, in.s, rules::fill_reach(p.kernel, p.dilation, false),
                  slots.take(kSlotFill, arena::fill_scratch_floats(in.s.h, in.s.w)));
    arena::pool_mask(m_out, in.m, in.s.n, in.s.h, in.s.w, p.kernel, p.stride, p.padding, p.dilation);
  }
  const int chunk = arena::chunk_columns(p, out.h * out.w, slots.column_budget());
  float* cols = chunk ? slots.take(kSlotColumns, std::size_t(chunk) * p.col_rows()) : nullptr;
  arena::conv(y, in.x, in.s, p, layer.weight.data(), layer.bias.empty() ? nullptr : layer.bias.data(),
              accumulate, relu, cols, slots.column_budget());
  if (m_out && !accumulate) arena::apply_mask(y, m_out, out);
  return {y, m_out, out};
}

}  // namespace

bool forward_arena(float* logits, const float* x, const float* mask, const ResNet& net,
                   const ArenaPlan& plan, void* arena, ArenaUse* use) {
  if (!logits || !x || !arena || (mask && !plan.masked)) return false;
  if (reinterpret_cast<std::uintptr_t>(arena) % alignof(float) != 0) return false;
  // The plan must hold what this network needs at this input, in bounds.
  ArenaPlan needed;
  try {
    needed = plan_arena(net, plan.batch, plan.height, plan.width, plan.masked, plan.column_budget);
  } catch (...) {
    return false;
  }
  for (int s = 0; s < kSlotCount; ++s)
    if (needed.floats[s] > plan.floats[s] || plan.offset[s] > plan.arena_bytes ||
        plan.floats[s] > (plan.arena_bytes - plan.offset[s]) / sizeof(float))
      return false;

  Slots slots(arena, plan, use);
  const int n = plan.batch;
  // The masked forward starts from (x * m, m).
  const Shape xs{n, 3, plan.height, plan.width};
  ArenaAct a{slots.take(kSlotInput, xs.numel()), nullptr, xs};
  std::copy(x, x + xs.numel(), a.x);
  if (mask) {
    a.m = slots.take(kSlotMaskInput, mask_floats(xs));
    std::copy(mask, mask + mask_floats(xs), a.m);
    arena::apply_mask(a.x, a.m, xs);
  }
  // Stem: conv1 + bn1 + relu, then the MaxPool2d rule: y = maxpool(x) * maxpool(m).
  const ArenaAct stem = conv_bn(slots, a, net.stem(), kSlotStem, kSlotMaskStem, true, false);
  const Shape ps{n, stem.s.c, pool_out_size(stem.s.h, 3, 2, 1), pool_out_size(stem.s.w, 3, 2, 1)};
  const int wide[2] = {kSlotWideA, kSlotWideB}, mask_wide[2] = {kSlotMaskWideA, kSlotMaskWideB};
  const int inner[2] = {kSlotInner0, kSlotInner1}, mask_inner[2] = {kSlotMaskInner0, kSlotMaskInner1};
  int cur = 0;
  a = {slots.take(wide[cur], ps.numel()), nullptr, ps};
  arena::maxpool(a.x, stem.x, stem.s, 3, 2, 1);
  if (stem.m) {
    a.m = slots.take(mask_wide[cur], mask_floats(ps));
    arena::pool_mask(a.m, stem.m, n, stem.s.h, stem.s.w, 3, 2, 1, 1);
    arena::apply_mask(a.x, a.m, ps);
  }
  // Residual blocks: out = relu(branch(x) + identity(x)), and with masks the
  // Bottleneck residual rule: m_out = mo * mi, y = relu((o + i) * m_out) * m_out.
  for (const Block& block : net.blocks()) {
    ArenaAct identity = a;
    if (block.has_downsample) {
      identity = conv_bn(slots, a, block.downsample, wide[1 - cur], mask_wide[1 - cur], false, false);
      cur = 1 - cur;
    }
    ArenaAct t = a;
    for (std::size_t i = 0; i < block.convs.size(); ++i) {
      const bool last = i + 1 == block.convs.size();
      t = conv_bn(slots, t, block.convs[i], last ? wide[cur] : inner[i % 2], mask_inner[i % 2],
                  /*relu=*/true, /*accumulate=*/last);
    }
    if (t.m) {
      arena::multiply_mask(identity.m, t.m, mask_floats(t.s));
      arena::apply_mask(t.x, identity.m, t.s);
    }
    a = {t.x, identity.m, t.s};
  }
  // AdaptiveAvgPool2d (over visible positions only, when masked), then fc.
  float* features = slots.take(kSlotFeatures, std::size_t(n) * a.s.c);
  if (a.m) arena::masked_avgpool(features, a.x, a.m, a.s);
  else arena::avgpool(features, a.x, a.s);
  arena::linear(logits, features, net.fc_weight().data(), net.fc_bias().data(), n, a.s.c,
                net.fc_weight().n());
  return true;
}

}  // namespace lmask
