// masked_forward.cpp — the one layer-masked forward: every node of a graph
// on (value, mask) pairs, each op by its row of mask_rules.h. The masks and
// what each node computes are planned first (mask_plan.h); the conv, where
// the work is, has its own file (masked_conv.cpp). Between nodes a value is
// 0 outside its mask, so "f(x * m)" is f(x) here.
#include <stdexcept>

#include "lmask/graph_forward.h"
#include "lmask/mask_plan.h"
#include "lmask/mask_rules.h"
#include "masked_conv.h"
#include "value_lifetimes.h"

namespace lmask {

namespace {

// Whether f(0) = 0, so f keeps removed positions at 0 without a mask pass.
bool keeps_zero(Activation a) { return a != Activation::sigmoid && a != Activation::hardsigmoid; }

// y [N,C,S,S] = per bin, vismean over the bin (PyTorch's bins).
void masked_adaptive_avgpool(Tensor& y, const Tensor& x, const Mask& m) {
  const int s = y.h(), h = x.h(), w = x.w();
  for (int n = 0; n < x.n(); ++n)
    for (int c = 0; c < x.c(); ++c)
      for (int oy = 0; oy < s; ++oy)
        for (int ox = 0; ox < s; ++ox) {
          const int y0 = adaptive_bin_begin(oy, h, s), y1 = adaptive_bin_end(oy, h, s);
          const int x0 = adaptive_bin_begin(ox, w, s), x1 = adaptive_bin_end(ox, w, s);
          double sum = 0.0, visible = 0.0;
          for (int iy = y0; iy < y1; ++iy)
            for (int ix = x0; ix < x1; ++ix) {
              const float mv = m.image(n)[iy * w + ix];
              sum += double(x.at(n, c, iy, ix)) * mv, visible += mv;
            }
          y.at(n, c, oy, ox) = static_cast<float>(rules::visible_mean(sum, visible, double(y1 - y0) * (x1 - x0)));
        }
}

class MaskedForward {
 public:
  MaskedForward(const Graph& g, const LayerMaskingOptions& opt, int until, const Mask& m)
      : g_(g), opt_(opt), plan_(plan_masks(g, m, until)), life_(g, until, /*input_writable=*/true),
        ws_(Workspace::for_this_thread()), v_(g.nodes.size()) {
    ws_.gemm = opt.gemm ? opt.gemm : sgemm;
  }

  Act run(const Tensor& x, int until, const NodeObserver& observe) {
    // The masked forward starts from (x * m, m).
    v_[0] = x.clone();
    plan_.mask[0].apply(v_[0]);
    if (observe) observe(0, {v_[0], plan_.mask[0]});
    for (int id = 1; id <= until; ++id) {
      if (!plan_.runs[id]) continue;
      v_[id] = node_value(id);
      if (observe) observe(id, {v_[id], plan_.mask[id]});
      life_.drop_after(id, v_);
    }
    return {v_[until], plan_.mask[until]};
  }

 private:
  const Tensor& in(int id, int k = 0) const { return v_[g_.nodes[id].inputs[k]]; }
  const Mask& in_mask(int id, int k = 0) const { return plan_.mask[g_.nodes[id].inputs[k]]; }
  // Input k of node id, to be changed in place: itself when id reads it last.
  Tensor writable(int id, int k = 0) const {
    const int src = g_.nodes[id].inputs[k];
    return life_.may_overwrite(src, id) ? v_[src] : v_[src].clone();
  }
  // The outputs the node computes: its plan's under active execution, all of
  // its mask under dense (the rules read literally).
  const Mask& computed(int id) const {
    return opt_.execution == Execution::dense ? plan_.mask[id] : plan_.compute[id];
  }

  Tensor node_value(int id) {
    const Node& node = g_.nodes[id];
    const Mask& m_out = plan_.mask[id];
    const Tensor& x = in(id);
    Tensor y;
    switch (node.op) {
      case Op::conv2d: return conv(id);
      case Op::batchnorm:  // BN(x * m) * m
        y = writable(id);
        batchnorm(y, node.bn);
        m_out.apply(y);
        return y;
      case Op::activation:  // f(x * m) * m
        y = writable(id);
        activate(y, node.activation);
        if (!keeps_zero(node.activation)) m_out.apply(y);
        return y;
      case Op::maxpool:  // maxpool(x) * m', removed inputs are 0 and take part
      case Op::avgpool:  // avgpool(x) * m', the visible sum over the plain divisor
        y = Tensor::uninitialized({x.n(), x.c(), m_out.h(), m_out.w()});
        if (node.op == Op::maxpool) maxpool2d(y, x, node.pool);
        else avgpool2d(y, x, node.pool);
        m_out.apply(y);
        return y;
      case Op::global_avgpool:  // vismean(x, m); the mask ends
        y = Tensor({x.n(), x.c(), 1, 1});
        masked_avgpool(y, x, in_mask(id));
        return y;
      case Op::adaptive_avgpool:  // per bin, vismean
        y = Tensor({x.n(), x.c(), node.out_size, node.out_size});
        if (node.out_size == 1) masked_avgpool(y, x, in_mask(id));
        else masked_adaptive_avgpool(y, x, in_mask(id));
        return y;
      case Op::add:  // (x0 + x1) * m', m' = m0 * m1
        y = writable(id);
        add(y, in(id, 1));
        computed(id).apply(y);
        return y;
      case Op::concat: {  // cat(x_i) * m', m' the strict majority of the m_i
        std::vector<Tensor> parts;
        for (int i : node.inputs) parts.push_back(v_[i]);
        int channels = 0;
        for (const Tensor& p : parts) channels += p.c();
        y = Tensor::uninitialized({x.n(), channels, x.h(), x.w()});
        concat_channels(y, parts);
        m_out.apply(y);
        return y;
      }
      case Op::channel_scale:  // x0 * x1, the mask of x0
        y = writable(id);
        channel_scale(y, in(id, 1));
        return y;
      case Op::linear:  // unchanged; the mask has ended
        y = Tensor({x.n(), node.weight.n(), 1, 1});
        linear(y, x, node.weight, node.bias);
        return y;
      case Op::flatten: return x.reshaped({x.n(), x.c() * x.h() * x.w(), 1, 1});
      case Op::identity: return x;
      case Op::input: break;
    }
    throw std::logic_error("masked forward: unexpected op");
  }

  // The Conv2d rule (masked_conv.cpp), then its epilogue: with a residual
  // the add's rule, y = (y + r) * m', m' = m_conv * m_r; then the
  // activation's, f(y * m') * m'.
  Tensor conv(int id) {
    const Node& node = g_.nodes[id];
    const Act input{in(id), in_mask(id)};
    const bool residual = node.has_residual();
    const bool relu = node.fused_activation && node.activation == Activation::relu;
    const ConvParams& p = node.conv;
    const Mask conv_mask = residual ? input.m.pooled(p.kernel, p.stride, p.padding, p.dilation) : plan_.mask[id];
    MaskedConvCall call;
    call.options = opt_;
    call.workspace = &ws_;
    call.relu = relu && !residual;
    call.input_is_scratch = life_.may_overwrite(node.inputs[0], id);
    Tensor y = masked_conv2d(input, node, conv_mask, computed(id), call);
    if (residual) {
      if (relu) masked_add_relu(y, in(id, 1), computed(id));
      else add(y, in(id, 1)), computed(id).apply(y);
    }
    if (node.fused_activation && !relu) {
      activate(y, node.activation);
      if (!keeps_zero(node.activation)) computed(id).apply(y);
    }
    return y;
  }

  const Graph& g_;
  LayerMaskingOptions opt_;
  MaskPlan plan_;
  ValueLifetimes life_;
  Workspace& ws_;
  std::vector<Tensor> v_;
};

}  // namespace

Act run_graph_masked(const Graph& g, const Tensor& x, const Mask& m, const LayerMaskingOptions& options,
                     int until, const NodeObserver& observe) {
  if (until < 0) until = g.output;
  MaskedForward forward(g, options, until, m);
  return forward.run(x, until, observe);
}

}  // namespace lmask
