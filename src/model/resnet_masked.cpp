// resnet_masked.cpp — the layer-masked forward pass: the same flat list of
// layer calls as resnet_forward.cpp, on (activation, mask) pairs. Each helper
// names the spec rule it implements (shared/spec/LAYER_MASKING.md).
#include "lmask/resnet.h"

#include <vector>

namespace lmask {

namespace {

// Active-region execution pays a gather and a scatter per visible output;
// when nearly every output is visible, computing all of them densely and
// zeroing the few removed ones is cheaper (the dense path reads a pointwise
// conv's input in place). Chosen from `lmask bench` runs (README).
constexpr double kDenseAboveVisible = 0.9;

// Fill steps the computed outputs read beyond a visible input. An output the
// spec keeps has some visible input in its window, which it may read from
// (k-1)*d steps away. When every computed output's window is centred on a
// visible input (the outputs a block keeps, see masked_block), reads stay
// within (k/2)*d steps of one.
int fill_reach(const Mask& in, const ConvParams& p, const Mask& compute) {
  const int full = (p.kernel - 1) * p.dilation, half = (p.kernel / 2) * p.dilation;
  if (p.padding != half) return full;  // no centred window
  const Mask centres = in.pooled(1, p.stride, 0);
  const float* c = centres.tensor().data();
  const float* o = compute.tensor().data();
  for (std::size_t i = 0; i < compute.tensor().numel(); ++i)
    if (o[i] != 0.f && c[i] == 0.f) return full;
  return half;
}

// The Conv2d rule's output mask: m' = maxpool(m; k, s, p, d).
Mask output_mask(const Mask& m, const ConvBN& layer) {
  const ConvParams& p = layer.conv;
  return m.pooled(p.kernel, p.stride, p.padding, p.dilation);
}

// Conv2d rule: fill the removed neighbourhood, convolve, return (y * m', m')
// with m_out = output_mask(in.m, layer), computed by the caller. Then BatchNorm
// (y = BN(x*m)*m) and ReLU (relu(x*m)*m): folded into the conv, they act only
// on visible outputs, and removed outputs stay 0.
// `keep` (active execution only): compute just these outputs, a subset of
// m', because the caller zeroes the others later; the rest of y is 0.
// `in_is_scratch`: nothing else reads in.x, so the fill may write into it
// instead of into a copy (the stem's input, a bottleneck's inner convs).
Act masked_conv_bn(const Act& in, const ConvBN& layer, const Mask& m_out, const LayerMaskingOptions& opt,
                   Workspace& ws, bool relu_after, bool in_is_scratch = false, const Mask* keep = nullptr) {
  const ConvParams& p = layer.conv;
  const bool dense = opt.execution == Execution::dense;
  const Mask& compute = keep && !dense ? *keep : m_out;
  Tensor y = Tensor::uninitialized(p.out_shape(in.x.shape()));  // every path writes all of it
  const bool fused_relu = relu_after && layer.bn.empty();

  if (opt.fill == Fill::renorm) {
    // Partial convolution: no fill; divide by the window's visible fraction.
    const std::vector<int> positions =
        dense ? Mask::visible(y.n(), y.h(), y.w()).visible_positions() : compute.visible_positions();
    const std::vector<float> inv = renorm_inv_scale(in.m, p, positions);
    conv2d_at(y, in.x, layer.weight, layer.bias, p, positions, ws, fused_relu, inv.data());
    if (dense) m_out.apply(y);
  } else {
    Tensor x = in.x;
    if (opt.fill == Fill::neighbour_average && !in.m.all_visible()) {
      if (dense) {
        if (!in_is_scratch) x = in.x.clone();
        fill_reference(x, in.m, p.kernel);  // the spec: k steps everywhere
      } else if (const int reach = fill_reach(in.m, p, compute); reach > 0) {
        // Only the band the computed outputs read; a 1x1 conv reads only its
        // own (visible) position: no fill at all.
        if (!in_is_scratch) x = in.x.clone();
        fill_frontier(x, in.m, reach);
      }
    }
    if (dense || compute.visible_fraction() > kDenseAboveVisible) {
      conv2d(y, x, layer.weight, layer.bias, p, ws, fused_relu);
      if (!compute.all_visible()) compute.apply(y);
    } else {
      conv2d_at(y, x, layer.weight, layer.bias, p, compute.visible_positions(), ws, fused_relu);
    }
  }
  if (!layer.bn.empty()) {  // the unfolded reference
    batchnorm(y, layer.bn);
    compute.apply(y);
    if (relu_after) relu(y);
  }
  return {y, m_out};
}

// Bottleneck residual rule: m_out = mo * mi, y = relu((o + i) * m_out) * m_out.
// Active execution computes only what that product keeps: every conv whose
// output reaches the join through 1x1 stride-1 convs alone (which read only
// their own position) runs at m_out's visible positions, not at its own
// output mask's. In a ResNet these are the last conv (both block kinds) and
// a bottleneck's middle one; m_out is the block's input mask subsampled by
// the stride, so their windows are centred on visible inputs.
Act masked_block(const Act& in, const Block& block, const LayerMaskingOptions& opt, Workspace& ws) {
  const Act identity =
      block.has_downsample ? masked_conv_bn(in, block.downsample, output_mask(in.m, block.downsample), opt, ws, false)
                           : in;
  // The branch's masks, conv by conv, then what the join keeps.
  std::vector<Mask> branch{in.m};
  for (const ConvBN& layer : block.convs) branch.push_back(output_mask(branch.back(), layer));
  const Mask kept = branch.back() * identity.m;
  std::size_t first_kept = block.convs.size() - 1;
  while (first_kept > 0 && block.convs[first_kept].conv.is_pointwise()) --first_kept;

  Act t = in;
  // Only the first conv reads the block input, which the identity reads too.
  for (std::size_t i = 0; i < block.convs.size(); ++i)
    t = masked_conv_bn(t, block.convs[i], branch[i + 1], opt, ws, /*relu_after=*/i + 1 < block.convs.size(),
                       /*in_is_scratch=*/i > 0, i >= first_kept ? &kept : nullptr);
  masked_add_relu(t.x, identity.x, kept);
  return {t.x, kept};
}

}  // namespace

std::size_t ResNet::stage_end(int stage) const {
  std::size_t end = 0;
  for (int s = 0; s <= stage; ++s) end += spec_.blocks[s];
  return end;
}

Act ResNet::masked_stem(const Tensor& x, const Mask& m, const LayerMaskingOptions& opt) const {
  Workspace& ws = Workspace::for_this_thread();
  ws.gemm = opt.gemm ? opt.gemm : sgemm;
  // The masked forward starts from (x * m, m).
  Act a{x.clone(), m};
  m.apply(a.x);
  // Stem: conv1 + bn1 + relu, then MaxPool2d rule: m' = maxpool(m), y = maxpool(x) * m'.
  Act stem = masked_conv_bn(a, stem_, output_mask(m, stem_), opt, ws, true, /*in_is_scratch=*/true);
  Mask pooled_mask = stem.m.pooled(3, 2, 1);
  Tensor pooled({stem.x.n(), stem.x.c(), pooled_mask.h(), pooled_mask.w()});
  maxpool2d(pooled, stem.x, 3, 2, 1);
  pooled_mask.apply(pooled);
  return {pooled, pooled_mask};
}

Tensor ResNet::features_masked(const Tensor& x, const Mask& m, const LayerMaskingOptions& opt,
                               const StageObserver& observe) const {
  require_block_weights();
  Act a = masked_stem(x, m, opt);
  Workspace& ws = Workspace::for_this_thread();  // masked_stem set its GEMM
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
    Mask out = output_mask(in, layer);
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
