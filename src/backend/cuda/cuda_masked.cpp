// cuda_masked.cpp — the layer-masked forward on the GPU: masked_forward.h,
// the one masked forward, with CudaOps doing its steps on the device.
// masked_forward decides what each node computes by its row of
// mask_rules.h; CudaOps decides how: masks as device planes made by the
// mask kernels from each node's MaskRule, values in the plan's arena, and
// the conv (where the work is) computed at its visible outputs only
// (active execution) or densely then masked, as the native conv does:
//   fill:  k steps everywhere (dense), or the steps a kept output can read
//          (rules::fill_reach; active), one kernel each; none for a 1x1
//          conv, an all-visible input, or another fill
//   conv:  gathered im2col columns of the listed visible outputs, or dense
//          above rules::kDenseAboveVisible of them visible, then * m'
// Every other step is the clean op on the stored values (x is 0 outside its
// mask) followed, where the rule says, by * m'.
// Not here: the kernels (mask_kernels.cu, conv_kernels.cu,
// depthwise_kernels.cu, pointwise_kernels.cu, pool_kernels.cu,
// avgpool_kernels.cu) and the conv's products (cuda_conv.cpp).
#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda_error.h"
#include "cuda_net.h"
#include "cuda_plan.h"
#include "kernels.h"
#include "lmask/mask_plan.h"
#include "lmask/mask_rules.h"
#include "lmask/masked_forward.h"

namespace lmask::backends::cuda {

namespace {

using rules::kDenseAboveVisible;

std::size_t plane_count(const Shape& s) { return std::size_t(s.n) * s.h * s.w; }

// Carves the masked forward's buffers from one allocation: the fill's, two
// masks per node (mask and, for a conv with its residual fused, its own
// window mask) and the all-visible mask of ended masks, written here once.
std::unique_ptr<CudaNet::MaskedState> make_masked_state(const std::vector<Shape>& shapes,
                                                         std::size_t slot_floats, cudaStream_t stream) {
  auto st = std::make_unique<CudaNet::MaskedState>();
  const std::size_t batch = std::size_t(shapes[0].n);
  std::size_t max_plane = 0, masks_bytes = 0;
  for (const Shape& s : shapes) {
    max_plane = std::max(max_plane, plane_count(s));
    masks_bytes += 2 * plane_count(s) * (sizeof(float) + sizeof(int)) + 4 * 256;
  }
  masks_bytes += batch * (sizeof(float) + sizeof(int)) + 2 * 256;  // all_visible
  auto align = [](std::size_t b) { return (b + 255) / 256 * 256; };
  st->scratch_bytes = align(visible_positions_scratch(max_plane));
  const std::size_t fill_bytes = align(slot_floats * sizeof(float));
  const std::size_t plane_bytes = align(max_plane * sizeof(float));
  st->memory = DeviceBuffer(2 * fill_bytes + 3 * plane_bytes + st->scratch_bytes + 256 + masks_bytes);
  char* p = st->memory.as<char>();
  auto take = [&p, &align](std::size_t bytes) {
    char* at = p;
    p += align(bytes);
    return at;
  };
  st->fill[0] = reinterpret_cast<float*>(take(fill_bytes));
  st->fill[1] = reinterpret_cast<float*>(take(fill_bytes));
  st->known[0] = reinterpret_cast<float*>(take(plane_bytes));
  st->known[1] = reinterpret_cast<float*>(take(plane_bytes));
  st->inv_scale = reinterpret_cast<float*>(take(plane_bytes));
  st->scratch = take(st->scratch_bytes);
  st->visible = reinterpret_cast<int*>(take(sizeof(int)));
  st->visible_host.reserve(sizeof(int));
  auto add_mask = [&](std::size_t size) {
    DeviceMask dm;
    dm.size = size;
    dm.m = reinterpret_cast<float*>(take(dm.size * sizeof(float)));
    dm.positions = reinterpret_cast<int*>(take(dm.size * sizeof(int)));
    st->masks.push_back(dm);
  };
  for (const Shape& s : shapes)
    for (int k = 0; k < 2; ++k) add_mask(plane_count(s));
  st->all_visible = static_cast<int>(st->masks.size());
  add_mask(batch);
  // From pageable memory: staged before the call returns, copied in the
  // stream's order, so `ones` may go.
  const std::vector<float> ones(batch, 1.f);
  check(cudaMemcpyAsync(st->masks[st->all_visible].m, ones.data(), batch * sizeof(float), cudaMemcpyHostToDevice,
                        stream),
        "cudaMemcpyAsync (all-visible mask)");
  st->mask_of.assign(shapes.size(), -1);
  return st;
}

}  // namespace

// masked_forward's ops (masked_forward.h) on the device. Each step names
// the node it is for; masks are indices into MaskedState::masks.
class CudaOps : public NoSpans {
 public:
  CudaOps(CudaNet& net, CudaNet::Plan& plan, const Tensor& x, const Mask& m, const LayerMaskingOptions& opt,
          int until)
      : net_(net), g_(net.graph_), plan_(plan), st_(*plan.masked), x_(x), m_(m), opt_(opt),
        runs_(needed_for(g_, until)), stream_(net.stream_) {}

  bool runs(int id) const { return runs_[id]; }

  // v0 = x * m, m0 = m; every mask's visible positions uncounted.
  void start() {
    for (DeviceMask& dm : st_.masks) dm.count = -1;
    net_.upload(plan_, x_);
    check(cudaMemcpyAsync(st_.masks[0].m, m_.tensor().data(), m_.tensor().numel() * sizeof(float),
                          cudaMemcpyHostToDevice, stream_),
          "cudaMemcpyAsync (mask)");
    st_.mask_of[0] = 0;
    apply_mask(plan_.value[0], st_.masks[0].m, x_.n(), x_.c(), x_.h() * x_.w(), stream_);
  }

  // m'_id by the node's rule, on the device; for a conv also the mask its
  // own outputs are kept at (conv_mask_), which with a fused residual is the
  // window's alone.
  void mask(int id, const MaskRule& rule) {
    const Node& node = g_.nodes[id];
    const int src = node.inputs[0];
    const int in_mask = st_.mask_of[src];
    const int own = 2 * id, window = 2 * id + 1;
    conv_mask_ = in_mask;
    switch (rule.kind) {
      case MaskRule::same: st_.mask_of[id] = in_mask; return;
      case MaskRule::window:
        // A 1x1 stride-1 window keeps its input's mask (and its count).
        if (rule.kernel != 1 || rule.stride != 1 || rule.padding != 0) {
          conv_mask_ = rule.times_second ? window : own;
          pool_into(conv_mask_, in_mask, planes(plan_.shapes[src], plan_.shapes[id]), rule.kernel, rule.stride,
                    rule.padding, rule.dilation);
        }
        if (rule.times_second) {  // the residual rule: m_out = mo * mi
          product_into(own, conv_mask_, st_.mask_of[node.inputs[1]]);
          st_.mask_of[id] = own;
        } else {
          st_.mask_of[id] = conv_mask_;
        }
        return;
      case MaskRule::adaptive: {  // a bin is visible iff it holds a visible input
        const Shape& s = plan_.shapes[src];
        bins_mask(st_.masks[own].m, st_.masks[in_mask].m, s.n, s.h, s.w, rule.bins, stream_);
        st_.masks[own].count = -1;
        st_.mask_of[id] = own;
        return;
      }
      case MaskRule::product:
        product_into(own, in_mask, st_.mask_of[node.inputs[1]]);
        st_.mask_of[id] = own;
        return;
      case MaskRule::majority: {  // concat of three or more: count the visible inputs, then the rule
        DeviceMask& out = st_.masks[own];
        check(cudaMemsetAsync(out.m, 0, out.size * sizeof(float), stream_), "cudaMemsetAsync (majority)");
        for (int k : node.inputs) count_visible(out.m, st_.masks[st_.mask_of[k]].m, out.size, stream_);
        majority_of(out.m, int(node.inputs.size()), out.size, stream_);
        out.count = -1;
        st_.mask_of[id] = own;
        return;
      }
      case MaskRule::ends: st_.mask_of[id] = st_.all_visible; return;
    }
    throw std::logic_error("cuda: " + node_label(g_, id) + ": no mask kernel for its rule");
  }

  // The Conv2d rule on input 0: fill, conv, zeroed outside conv_mask_;
  // max(0, .) fused when `relu`.
  void conv(int id, bool relu) {
    const Node& node = g_.nodes[id];
    const ConvParams& p = node.conv;
    const int src = node.inputs[0];
    const Shape& in = plan_.shapes[src];
    const Shape& out = plan_.shapes[id];
    const Planes s = planes(in, out);
    const int src_mask = st_.mask_of[src];
    const bool dense = opt_.execution == Execution::dense;
    // The fill: k steps everywhere (the spec), or the steps a kept output
    // can read (rules::fill_reach); none for a 1x1 conv or an all-visible input.
    const float* x = plan_.value[src];
    const int steps = opt_.fill != Fill::neighbour_average ? 0
                      : dense                              ? p.kernel
                                                           : rules::fill_reach(p.kernel, p.dilation, false);
    if (steps > 0 && counted(src_mask).count != int(st_.masks[src_mask].size)) {
      const float* r = st_.masks[src_mask].m;
      for (int step = 0; step < steps; ++step) {
        fill_step(st_.fill[step % 2], st_.known[step % 2], x, r, in.n, in.c, in.h, in.w, stream_);
        x = st_.fill[step % 2], r = st_.known[step % 2];
      }
    }
    const ConvContext ctx = net_.conv_context(plan_);
    const DeviceConv dc = net_.device_conv(id);
    const bool renorm = opt_.fill == Fill::renorm;
    float* y = plan_.value[id];
    const DeviceMask& m_out = dense ? st_.masks[conv_mask_] : counted(conv_mask_);
    if (dense || double(m_out.count) > kDenseAboveVisible * double(m_out.size)) {
      if (renorm) renorm_scale(st_.inv_scale, st_.masks[src_mask].m, nullptr, int(m_out.size), s, p, stream_);
      conv_dense(ctx, dc, s, x, y, nullptr, renorm ? st_.inv_scale : nullptr, relu_if(relu));
      apply_mask(y, m_out.m, out.n, out.c, out.h * out.w, stream_);
    } else {
      if (renorm) renorm_scale(st_.inv_scale, st_.masks[src_mask].m, m_out.positions, m_out.count, s, p, stream_);
      conv_active(ctx, dc, s, x, y, m_out.positions, m_out.count, renorm ? st_.inv_scale : nullptr,
                  relu_if(relu));
    }
  }

  // v = f((v + x1) * m') * m', f = relu or the identity.
  void residual_add(int id, bool relu) {
    const Shape& out = plan_.shapes[id];
    residual_join(plan_.value[id], plan_.value[g_.nodes[id].inputs[1]], st_.masks[st_.mask_of[id]].m, out.n, out.c,
                  out.h * out.w, relu, stream_);
  }

  void from_input(int id) { net_.take_input(plan_, id); }
  void batchnorm(int id) { net_.batchnorm_in_place(plan_, id); }
  void activate(int id, Activation f) { net_.activate_in_place(plan_, id, f); }
  void add(int id) { net_.add_second_input(plan_, id); }
  void channel_scale(int id) { net_.scale_channels(plan_, id); }
  void concat(int id) { net_.concat_inputs(plan_, id); }

  // v = v * m'; the pool kernels have done it (pool).
  void remask(int id) {
    const Op op = g_.nodes[id].op;
    if (op == Op::maxpool || op == Op::avgpool) return;
    const Shape& s = plan_.shapes[id];
    apply_mask(plan_.value[id], st_.masks[st_.mask_of[id]].m, s.n, s.c, s.h * s.w, stream_);
  }

  // v = pool(x) * m' in one kernel: removed inputs hold 0 and take part (in
  // the max, and in the average's visible sum over its plain divisor).
  void pool(int id) {
    const Node& node = g_.nodes[id];
    const int src = node.inputs[0];
    const Shape& in = plan_.shapes[src];
    const Planes s = planes(in, plan_.shapes[id]);
    const float* m_out = st_.masks[st_.mask_of[id]].m;
    if (node.op == Op::maxpool)
      maxpool(plan_.value[id], plan_.value[src], in.c, s, node.pool.kernel, node.pool.stride, node.pool.padding,
              m_out, stream_);
    else
      avgpool_window(plan_.value[id], plan_.value[src], in.c, s, node.pool, m_out, stream_);
  }

  // v = vismean(x, m) over the whole plane (global pooling) or per bin
  // (adaptive); with allmean the plain mean (x is 0 outside its mask).
  void masked_average(int id) {
    const Node& node = g_.nodes[id];
    const int src = node.inputs[0];
    const Shape& in = plan_.shapes[src];
    const float* m = node.allmean ? nullptr : st_.masks[st_.mask_of[src]].m;
    if (node.op == Op::adaptive_avgpool)
      adaptive_avgpool(plan_.value[id], plan_.value[src], m, in.n, in.c, in.h, in.w, node.out_size, stream_);
    else
      avgpool(plan_.value[id], plan_.value[src], m, in.n, in.c, in.h * in.w, stream_);
  }

  // v = fill_1(v, m0): one step into the fill scratch, then back.
  void fill(int id) {
    if (opt_.fill != Fill::neighbour_average) return;
    const Shape& s = plan_.shapes[id];
    const float* r = st_.masks[st_.mask_of[g_.nodes[id].inputs[0]]].m;
    fill_step(st_.fill[0], st_.known[0], plan_.value[id], r, s.n, s.c, s.h, s.w, stream_);
    check(cudaMemcpyAsync(plan_.value[id], st_.fill[0], s.numel() * sizeof(float), cudaMemcpyDeviceToDevice, stream_),
          "cudaMemcpyAsync (a fill step)");
  }

  void linear(int id) { net_.linear(plan_, id); }
  void alias(int) {}     // flatten, identity: the input's storage (value_slots.h)
  void finished(int) {}  // values stay in their slots; nothing to release

 private:
  // The mask's visible positions and their count, computed once per run.
  const DeviceMask& counted(int index) {
    DeviceMask& dm = st_.masks[index];
    if (dm.count < 0) {
      visible_positions(dm.positions, st_.visible, dm.m, dm.size, st_.scratch, st_.scratch_bytes, stream_);
      check(cudaMemcpyAsync(st_.visible_host.data(), st_.visible, sizeof(int), cudaMemcpyDeviceToHost, stream_),
            "cudaMemcpyAsync (visible count)");
      check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize (visible count)");
      dm.count = *reinterpret_cast<int*>(st_.visible_host.data());
    }
    return dm;
  }
  void pool_into(int out, int in, const Planes& s, int kernel, int stride, int padding, int dilation) {
    pool_mask(st_.masks[out].m, st_.masks[in].m, s, kernel, stride, padding, dilation, stream_);
    st_.masks[out].count = -1;
  }
  void product_into(int out, int a, int b) {
    mask_product(st_.masks[out].m, st_.masks[a].m, st_.masks[b].m, st_.masks[out].size, stream_);
    st_.masks[out].count = -1;
  }
  CudaNet& net_;
  const Graph& g_;
  CudaNet::Plan& plan_;
  CudaNet::MaskedState& st_;
  const Tensor& x_;
  const Mask& m_;
  LayerMaskingOptions opt_;
  std::vector<bool> runs_;
  cudaStream_t stream_;
  int conv_mask_ = -1;  // the current conv's own output mask (mask())
};

Tensor CudaNet::run_masked(const Tensor& x, const Mask& m, const LayerMaskingOptions& opt, int until) {
  if (until < 0 || until >= graph_.size()) throw std::out_of_range("cuda: no graph node " + std::to_string(until));
  if (m.n() != x.n() || m.h() != x.h() || m.w() != x.w())
    throw std::invalid_argument("mask " + m.tensor().shape().str() + " does not fit input " + x.shape().str());
  Plan& plan = plan_for(x.shape());
  if (!plan.masked) plan.masked = make_masked_state(plan.shapes, plan.slot_floats, stream_);
  CudaOps ops(*this, plan, x, m, opt, until);
  masked_forward(graph_, until, ops);
  return download(plan, until);
}

}  // namespace lmask::backends::cuda
