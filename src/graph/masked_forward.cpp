// masked_forward.cpp — the native backend's layer-masked forward: the one
// masked forward (masked_forward.h) on Tensors. The masks and what each node
// computes are planned first (mask_plan.h); the conv, where the work is, has
// its own file (masked_conv.cpp).
#include <stdexcept>

#include "lmask/graph_forward.h"
#include "lmask/kernels.h"
#include "lmask/mask_plan.h"
#include "lmask/masked_forward.h"
#include "lmask/value_lifetimes.h"
#include "masked_conv.h"

namespace lmask {

namespace {

// The native backend's ops for masked_forward (masked_forward.h): values
// are Tensors, masks the plan's (mask_plan.h), worked out before any value
// because active execution computes only what a reader keeps.
class NativeOps {
 public:
  NativeOps(const Graph& g, const Tensor& x, const LayerMaskingOptions& opt, int until, const Mask& m,
            const NodeObserver& observe, MaskedSpans* spans)
      : g_(g), x_(x), opt_(opt), plan_(plan_masks(g, m, until)), life_(g, until, /*input_writable=*/true),
        ws_(Workspace::for_this_thread()), observe_(observe), spans_(spans), v_(g.nodes.size()) {
    ws_.gemm = opt.gemm ? opt.gemm : sgemm;
  }
  Act result(int until) const { return {v_[until], plan_.mask[until]}; }

  bool runs(int id) const { return plan_.runs[id]; }
  void start() {
    v_[0] = x_.clone();
    plan_.mask[0].apply(v_[0]);
    finished(0);
  }
  // The plan has every node's mask already; a conv with its residual fused
  // also needs its window's mask alone.
  void mask(int id, const MaskRule& rule) {
    if (rule.times_second) own_mask_ = window_mask(rule, in_mask(id));
  }
  void conv(int id, bool relu) {
    const Node& node = g_.nodes[id];
    MaskedConvCall call;
    call.options = opt_;
    call.workspace = &ws_;
    call.relu = relu;
    call.input_is_scratch = life_.may_overwrite(node.inputs[0], id);
    const Mask& own = node.has_residual() ? own_mask_ : plan_.mask[id];
    v_[id] = masked_conv2d({in(id), in_mask(id)}, node, own, computed(id), call);
  }
  void residual_add(int id, bool relu) {
    if (relu) return masked_add_relu(v_[id], in(id, 1), computed(id));
    lmask::add(v_[id], in(id, 1));
    computed(id).apply(v_[id]);
  }
  void from_input(int id) {
    const int src = g_.nodes[id].inputs[0];
    v_[id] = life_.may_overwrite(src, id) ? v_[src] : v_[src].clone();
  }
  void batchnorm(int id) { lmask::batchnorm(v_[id], g_.nodes[id].bn); }
  void activate(int id, Activation f) { lmask::activate(v_[id], f); }
  void add(int id) { lmask::add(v_[id], in(id, 1)); }
  void channel_scale(int id) { lmask::channel_scale(v_[id], in(id, 1)); }
  void remask(int id) { computed(id).apply(v_[id]); }
  void fill(int id) {
    if (opt_.fill == Fill::neighbour_average) fill_frontier(v_[id], in_mask(id), 1);
  }
  void pool(int id) {
    const Node& node = g_.nodes[id];
    const Tensor& x = in(id);
    const Mask& m_out = plan_.mask[id];
    v_[id] = Tensor::uninitialized({x.n(), x.c(), m_out.h(), m_out.w()});
    if (node.op == Op::maxpool) maxpool2d(v_[id], x, node.pool);
    else avgpool2d(v_[id], x, node.pool);
  }
  void masked_average(int id) {
    const Node& node = g_.nodes[id];
    const Tensor& x = in(id);
    const int s = node.op == Op::adaptive_avgpool ? node.out_size : 1;
    v_[id] = Tensor({x.n(), x.c(), s, s});
    if (node.allmean) adaptive_avgpool2d(v_[id], x);  // x is 0 outside its mask: mean_hw(x * m)
    else if (s == 1) masked_avgpool(v_[id], x, in_mask(id));
    else kernels::masked_adaptive_avgpool(v_[id].data(), x.data(), in_mask(id).tensor().data(), x.shape(), s);
  }
  void concat(int id) {
    std::vector<Tensor> parts;
    int channels = 0;
    for (int i : g_.nodes[id].inputs) parts.push_back(v_[i]), channels += v_[i].c();
    const Tensor& x = in(id);
    v_[id] = Tensor::uninitialized({x.n(), channels, x.h(), x.w()});
    concat_channels(v_[id], parts);
  }
  void linear(int id) {
    const Node& node = g_.nodes[id];
    v_[id] = Tensor({in(id).n(), node.weight.n(), 1, 1});
    lmask::linear(v_[id], in(id), node.weight, node.bias);
  }
  void alias(int id) {
    const Tensor& x = in(id);
    v_[id] = g_.nodes[id].op == Op::flatten ? x.reshaped({x.n(), x.c() * x.h() * x.w(), 1, 1}) : x;
  }
  void finished(int id) {
    if (observe_) observe_(id, {v_[id], plan_.mask[id]});
    life_.drop_after(id, v_);
  }
  int span_end(int id) const {
    const MaskedSpan* span = spans_ ? spans_->span_at(id) : nullptr;
    return span ? span->last : -1;
  }
  void run_span(int first, int last) {
    const MaskedSpan& span = *spans_->span_at(first);
    v_[last] = spans_->run(span, {v_[span.input], plan_.mask[span.input]}, opt_);
    for (int id = first; id < last; ++id) life_.drop_after(id, v_);
  }

 private:
  const Tensor& in(int id, int k = 0) const { return v_[g_.nodes[id].inputs[k]]; }
  const Mask& in_mask(int id, int k = 0) const { return plan_.mask[g_.nodes[id].inputs[k]]; }
  // The outputs the node computes: its plan's under active execution, all of
  // its mask under dense (the rules read literally).
  const Mask& computed(int id) const {
    return opt_.execution == Execution::dense ? plan_.mask[id] : plan_.compute[id];
  }

  const Graph& g_;
  const Tensor& x_;
  LayerMaskingOptions opt_;
  MaskPlan plan_;
  ValueLifetimes life_;
  Workspace& ws_;
  const NodeObserver& observe_;
  MaskedSpans* spans_;
  std::vector<Tensor> v_;
  Mask own_mask_;  // the current conv's window mask, when its residual add is fused
};

}  // namespace

Act run_graph_masked(const Graph& g, const Tensor& x, const Mask& m, const LayerMaskingOptions& options,
                     int until, const NodeObserver& observe, MaskedSpans* spans) {
  if (until < 0) until = g.output;
  NativeOps ops(g, x, options, until, m, observe, spans);
  masked_forward(g, until, ops);
  return ops.result(until);
}

}  // namespace lmask
