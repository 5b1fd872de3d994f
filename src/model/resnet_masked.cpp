// resnet_masked.cpp — the layer-masked forward pass: the same flat list of
// layer calls as resnet_forward.cpp, on (activation, mask) pairs. Each helper
// names the spec rule it implements (shared/spec/LAYER_MASKING.md).
#include "lmask/resnet.h"

namespace lmask {

namespace {

// Active-region execution pays a gather and a scatter per visible output;
// when nearly every output is visible, computing all of them densely and
// zeroing the few removed ones is cheaper (the dense path reads a pointwise
// conv's input in place). Chosen from `lmask bench` runs (README).
constexpr double kDenseAboveVisible = 0.9;

// Conv2d rule: fill the removed neighbourhood, convolve, output mask
// m' = maxpool(m; k, s, p, d), return (y * m', m'). Then BatchNorm
// (y = BN(x*m)*m) and ReLU (relu(x*m)*m): folded into the conv, they act only
// on visible outputs, and removed outputs stay 0.
// `in_is_scratch`: nothing else reads in.x, so the fill may write into it
// instead of into a copy (the stem's input, a bottleneck's inner convs).
Act masked_conv_bn(const Act& in, const ConvBN& layer, const LayerMaskingOptions& opt,
                   Workspace& ws, bool relu_after, bool in_is_scratch = false) {
  const ConvParams& p = layer.conv;
  Mask m_out = in.m.pooled(p.kernel, p.stride, p.padding, p.dilation);
  Tensor y(p.out_shape(in.x.shape()));
  const bool fused_relu = relu_after && layer.bn.empty();
  const bool dense = opt.execution == Execution::dense;

  if (opt.fill == Fill::renorm) {
    // Partial convolution: no fill; divide by the window's visible fraction.
    const std::vector<int> positions =
        dense ? Mask::visible(y.n(), y.h(), y.w()).visible_positions() : m_out.visible_positions();
    const std::vector<float> inv = renorm_inv_scale(in.m, p, positions);
    conv2d_at(y, in.x, layer.weight, layer.bias, p, positions, ws, fused_relu, inv.data());
    if (dense) m_out.apply(y);
  } else {
    Tensor x = in.x;
    if (opt.fill == Fill::neighbour_average && !in.m.all_visible()) {
      if (dense) {
        if (!in_is_scratch) x = in.x.clone();
        fill_reference(x, in.m, p.kernel);  // the spec: k steps everywhere
      } else if (p.kernel > 1) {
        // A kept output reads inputs within k-1 steps of a visible one; a
        // 1x1 conv reads only its own (visible) position: no fill at all.
        if (!in_is_scratch) x = in.x.clone();
        fill_frontier(x, in.m, (p.kernel - 1) * p.dilation);
      }
    }
    if (dense || m_out.visible_fraction() > kDenseAboveVisible) {
      conv2d(y, x, layer.weight, layer.bias, p, ws, fused_relu);
      if (!m_out.all_visible()) m_out.apply(y);
    } else {
      conv2d_at(y, x, layer.weight, layer.bias, p, m_out.visible_positions(), ws, fused_relu);
    }
  }
  if (!layer.bn.empty()) {  // the unfolded reference
    batchnorm(y, layer.bn);
    m_out.apply(y);
    if (relu_after) relu(y);
  }
  return {y, m_out};
}

// Bottleneck residual rule: m_out = mo * mi, y = relu((o + i) * m_out) * m_out.
Act masked_block(const Act& in, const Block& block, const LayerMaskingOptions& opt, Workspace& ws) {
  Act t = in;
  // Only the first conv reads the block input, which the identity reads too.
  for (std::size_t i = 0; i < block.convs.size(); ++i)
    t = masked_conv_bn(t, block.convs[i], opt, ws, /*relu_after=*/i + 1 < block.convs.size(),
                       /*in_is_scratch=*/i > 0);
  const Act identity = block.has_downsample ? masked_conv_bn(in, block.downsample, opt, ws, false) : in;
  add(t.x, identity.x, /*relu=*/true);
  t.m = t.m * identity.m;
  t.m.apply(t.x);
  return t;
}

}  // namespace

std::size_t ResNet::stage_end(int stage) const {
  std::size_t end = 0;
  for (int s = 0; s <= stage; ++s) end += spec_.blocks[s];
  return end;
}

Tensor ResNet::features_masked(const Tensor& x, const Mask& m, const LayerMaskingOptions& opt,
                               const StageObserver& observe) const {
  Workspace ws;
  // The masked forward starts from (x * m, m).
  Act a{x.clone(), m};
  m.apply(a.x);
  // Stem: conv1 + bn1 + relu, then MaxPool2d rule: m' = maxpool(m), y = maxpool(x) * m'.
  Act stem = masked_conv_bn(a, stem_, opt, ws, true, /*in_is_scratch=*/true);
  Mask pooled_mask = stem.m.pooled(3, 2, 1);
  Tensor pooled({stem.x.n(), stem.x.c(), pooled_mask.h(), pooled_mask.w()});
  maxpool2d(pooled, stem.x, 3, 2, 1);
  pooled_mask.apply(pooled);
  a = {pooled, pooled_mask};
  if (observe) observe("stem", a);
  // Four stages of residual blocks.
  std::size_t b = 0;
  for (int stage = 0; stage < 4; ++stage) {
    for (; b < stage_end(stage); ++b) a = masked_block(a, blocks_[b], opt, ws);
    if (observe) observe("layer" + std::to_string(stage + 1), a);
  }
  // AdaptiveAvgPool2d rule: the average over visible positions only.
  Tensor f({a.x.n(), a.x.c(), 1, 1});
  masked_avgpool(f, a.x, a.m);
  return f;
}

ResNet::ConvWork ResNet::conv_work(const Mask& m) const {
  ConvWork work;
  // Follows the masks exactly as features_masked does, without activations.
  auto conv = [&work](const Mask& in, const ConvBN& layer) {
    const ConvParams& p = layer.conv;
    Mask out = in.pooled(p.kernel, p.stride, p.padding, p.dilation);
    const double per_output = double(p.out_channels) * p.col_rows();
    work.dense_macs += per_output * double(out.tensor().numel());
    work.visible_macs += per_output * double(out.count_visible());
    return out;
  };
  Mask a = conv(m, stem_).pooled(3, 2, 1);
  for (const Block& block : blocks_) {
    Mask t = a;
    for (const ConvBN& layer : block.convs) t = conv(t, layer);
    a = t * (block.has_downsample ? conv(a, block.downsample) : a);
  }
  return work;
}

Tensor ResNet::forward_masked(const Tensor& x, const Mask& m, const LayerMaskingOptions& opt) const {
  return classify(features_masked(x, m, opt));
}

}  // namespace lmask
