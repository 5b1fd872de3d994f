// masked_conv.cpp — the Conv2d rule of layer masking, and the shortcuts that
// make it cheap (shared/spec/LAYER_MASKING.md; the row of mask_rules.h):
//
//   m' = dil(m; k, s, p, d)
//   y  = conv(fill_k(x, m), W) + b, zeroed outside m'
//   renorm fill: y = conv(x, W) * (1/c) + b, c = conv(m, ones(k x k)/k^2) + 1e-8
//
// Dense execution is that rule read literally: k fill steps on every
// position, every output computed, then masked. Active execution keeps the
// values and skips work, each shortcut exact:
// - only `compute` is computed (mask_plan.h: the outputs some reader keeps,
//   within m'); every other output is 0;
// - the fill runs only on the band those outputs read, from its frontier:
//   rules::fill_reach steps, none for a 1x1 conv (it reads its own,
//   visible, position);
// - when most outputs are computed anyway (rules::kDenseAboveVisible), all
//   are, and the rest zeroed: cheaper than gathering the visible ones.
#include "masked_conv.h"

#include "lmask/mask_rules.h"

namespace lmask {

namespace {

// Whether every output in `compute` has its window centred on a visible
// input of `in` (then fewer fill steps reach everything it reads).
bool windows_centred(const Mask& in, const ConvParams& p, const Mask& compute) {
  if (p.padding != (p.kernel / 2) * p.dilation) return false;  // no window is centred
  const Mask centres = in.pooled(1, p.stride, 0);
  // An even kernel has one output more per axis than there are centres
  // (k = 4, p = 2: H + 1 rows from H): not every window has a centre.
  if (centres.tensor().shape() != compute.tensor().shape()) return false;
  const float* c = centres.tensor().data();
  const float* o = compute.tensor().data();
  for (std::size_t i = 0; i < compute.tensor().numel(); ++i)
    if (o[i] != 0.f && c[i] == 0.f) return false;
  return true;
}

}  // namespace

Tensor masked_conv2d(const Act& in, const Node& node, const Mask& conv_mask, const Mask& compute,
                     const MaskedConvCall& call) {
  const ConvParams& p = node.conv;
  const LayerMaskingOptions& opt = call.options;
  Workspace& ws = *call.workspace;
  const bool dense = opt.execution == Execution::dense;
  const Mask& out = dense ? conv_mask : compute;  // the outputs computed
  Tensor y = Tensor::uninitialized(p.out_shape(in.x.shape()));  // every path writes all of it

  if (opt.fill == Fill::renorm) {
    // Partial convolution: no fill; scale each output by its window's 1/c.
    const std::vector<int> positions =
        dense ? Mask::visible(y.n(), y.h(), y.w()).visible_positions() : out.visible_positions();
    const std::vector<float> inv = renorm_inv_scale(in.m, p, positions);
    conv2d_at(y, in.x, node.weight, node.bias, p, positions, ws, call.relu, inv.data());
    if (dense) out.apply(y);
    return y;
  }
  Tensor x = in.x;
  if (opt.fill == Fill::neighbour_average && !in.m.all_visible()) {
    if (dense) {
      if (!call.input_is_scratch) x = in.x.clone();
      fill_reference(x, in.m, p.kernel);  // the rule: k steps everywhere
    } else if (const int reach = rules::fill_reach(p.kernel, p.dilation, windows_centred(in.m, p, out));
               reach > 0) {
      if (!call.input_is_scratch) x = in.x.clone();
      fill_frontier(x, in.m, reach);
    }
  }
  if (dense || out.visible_fraction() > rules::kDenseAboveVisible) {
    conv2d(y, x, node.weight, node.bias, p, ws, call.relu);
    if (!out.all_visible()) out.apply(y);
  } else {
    conv2d_at(y, x, node.weight, node.bias, p, out.visible_positions(), ws, call.relu);
  }
  return y;
}

}  // namespace lmask
