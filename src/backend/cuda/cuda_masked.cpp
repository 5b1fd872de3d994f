// cuda_masked.cpp — the layer-masked forward on the GPU (spec:
// shared/spec/LAYER_MASKING.md, mask_rules.h), layer by layer over the
// layer list made from a graph (lower_layers.cpp), as the graph's masked
// forward (src/graph/masked_forward.cpp) does on the CPU:
//   conv:     m' = maxpool(m; k, s, p, d); fill x's removed neighbourhood;
//             y = conv(x_filled) (BN folded, ReLU fused unless a residual
//             follows) at visible outputs only, or densely then * m'
//   residual: m_out = m' * m_identity, y = relu((y + identity) * m_out) * m_out
//   max-pool: m' = maxpool(m), y = maxpool(x) * m'
//   avgpool:  mean_hw(x * m) / (mean_hw(m) + 1e-8); linear unchanged.
// Not here: the kernels (mask_kernels.cu) and the conv's products (cuda_conv.cpp).
#include <stdexcept>

#include "lmask/mask_rules.h"
#include "cuda_error.h"
#include "cuda_net.h"
#include "cuda_plan.h"
#include "kernels.h"

namespace lmask::backends::cuda {

namespace {

// As in the native forward: above this visible fraction of a conv's
// outputs, the dense conv (then masking) beats gathering the visible ones.
using rules::kDenseAboveVisible;

std::size_t plane_count(const Shape& s) { return std::size_t(s.n) * s.h * s.w; }

// Carves the masked forward's buffers from one allocation.
std::unique_ptr<CudaNet::MaskedState> make_masked_state(const std::vector<Shape>& shapes,
                                                         std::size_t slot_floats) {
  auto st = std::make_unique<CudaNet::MaskedState>();
  std::size_t max_plane = 0, masks_bytes = 0;
  for (const Shape& s : shapes) {
    max_plane = std::max(max_plane, plane_count(s));
    masks_bytes += 2 * plane_count(s) * (sizeof(float) + sizeof(int)) + 4 * 256;
  }
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
  for (const Shape& s : shapes)
    for (int k = 0; k < 2; ++k) {
      DeviceMask dm;
      dm.size = plane_count(s);
      dm.m = reinterpret_cast<float*>(take(dm.size * sizeof(float)));
      dm.positions = reinterpret_cast<int*>(take(dm.size * sizeof(int)));
      st->masks.push_back(dm);
    }
  st->mask_of.assign(shapes.size(), -1);
  return st;
}

// The mask's visible positions and their count, computed once per run.
const DeviceMask& counted(CudaNet::MaskedState& st, int index, cudaStream_t stream) {
  DeviceMask& dm = st.masks[index];
  if (dm.count < 0) {
    visible_positions(dm.positions, st.visible, dm.m, dm.size, st.scratch, st.scratch_bytes, stream);
    check(cudaMemcpyAsync(st.visible_host.data(), st.visible, sizeof(int), cudaMemcpyDeviceToHost, stream),
          "cudaMemcpyAsync (visible count)");
    check(cudaStreamSynchronize(stream), "cudaStreamSynchronize (visible count)");
    dm.count = *reinterpret_cast<int*>(st.visible_host.data());
  }
  return dm;
}

}  // namespace

void CudaNet::run_masked_layer(Plan& plan, int i, const LayerMaskingOptions& opt) {
  MaskedState& st = *plan.masked;
  const Layer& l = graph_.layers[i];
  const Shape& in = plan.shapes[l.src];
  const Shape& out = plan.shapes[i + 1];
  const Planes s = planes(in, out);
  const int src_mask = st.mask_of[l.src];
  const int own = 2 * (i + 1);  // this activation's masks: [own] final, [own + 1] before a join
  switch (l.op) {
    case Layer::Op::conv: {
      const ConvParams& p = l.conv;
      // m' = maxpool(m; k, s, p, d); a 1x1 stride-1 conv keeps its input's mask.
      int conv_mask = src_mask;
      if (!p.is_pointwise()) {
        conv_mask = l.residual >= 0 ? own + 1 : own;
        pool_mask(st.masks[conv_mask].m, st.masks[src_mask].m, s, p.kernel, p.stride, p.padding, p.dilation,
                  stream_);
        st.masks[conv_mask].count = -1;
      }
      const bool dense = opt.execution == Execution::dense;
      // The fill: k steps everywhere (the spec), or the steps a kept output
      // can read (rules::fill_reach); none for a 1x1 conv or an all-visible input.
      const float* x = plan.act[l.src];
      const int steps = opt.fill != Fill::neighbour_average ? 0
                        : dense                             ? p.kernel
                                                            : rules::fill_reach(p.kernel, p.dilation, false);
      if (steps > 0 && counted(st, src_mask, stream_).count != int(st.masks[src_mask].size)) {
        const float* r = st.masks[src_mask].m;
        for (int step = 0; step < steps; ++step) {
          fill_step(st.fill[step % 2], st.known[step % 2], x, r, in.n, in.c, in.h, in.w, stream_);
          x = st.fill[step % 2], r = st.known[step % 2];
        }
      }
      const ConvContext ctx{blas_, stream_, plan.work, plan.work_floats};
      const DeviceConv conv{p, weights_[i].as(), biases_[i].as()};
      const bool relu = l.relu && l.residual < 0;
      const bool renorm = opt.fill == Fill::renorm;
      float* y = plan.act[i + 1];
      const DeviceMask& m_out = dense ? st.masks[conv_mask] : counted(st, conv_mask, stream_);
      if (dense || double(m_out.count) > kDenseAboveVisible * double(m_out.size)) {
        if (renorm) renorm_scale(st.inv_scale, st.masks[src_mask].m, nullptr, int(m_out.size), s, p, stream_);
        conv_dense(ctx, conv, s, x, y, nullptr, renorm ? st.inv_scale : nullptr, relu);
        apply_mask(y, m_out.m, out.n, out.c, out.h * out.w, stream_);
      } else {
        if (renorm) renorm_scale(st.inv_scale, st.masks[src_mask].m, m_out.positions, m_out.count, s, p, stream_);
        conv_active(ctx, conv, s, x, y, m_out.positions, m_out.count, renorm ? st.inv_scale : nullptr, relu);
      }
      st.mask_of[i + 1] = conv_mask;
      if (l.residual >= 0) {
        // The residual rule: m_out = mo * mi, y = relu((o + i) * m_out) * m_out.
        mask_product(st.masks[own].m, st.masks[conv_mask].m, st.masks[st.mask_of[l.residual]].m,
                     st.masks[own].size, stream_);
        st.masks[own].count = -1;
        residual_join(y, plan.act[l.residual], st.masks[own].m, out.n, out.c, out.h * out.w, l.relu, stream_);
        st.mask_of[i + 1] = own;
      }
      break;
    }
    case Layer::Op::maxpool:
      pool_mask(st.masks[own].m, st.masks[src_mask].m, s, l.conv.kernel, l.conv.stride, l.conv.padding, 1,
                stream_);
      st.masks[own].count = -1;
      maxpool(plan.act[i + 1], plan.act[l.src], in.c, s, l.conv.kernel, l.conv.stride, l.conv.padding,
              st.masks[own].m, stream_);
      st.mask_of[i + 1] = own;
      break;
    case Layer::Op::global_avgpool:
      avgpool(plan.act[i + 1], plan.act[l.src], st.masks[src_mask].m, in.n, in.c, in.h * in.w, stream_);
      break;  // the mask ends here
    case Layer::Op::linear: run_linear(plan, i); break;
  }
}

Tensor CudaNet::run_masked(const Tensor& x, const Mask& m, const LayerMaskingOptions& opt, int index) {
  if (index < 0 || index > graph_.output()) throw std::out_of_range("cuda: no activation " + std::to_string(index));
  if (m.n() != x.n() || m.h() != x.h() || m.w() != x.w())
    throw std::invalid_argument("mask " + m.tensor().shape().str() + " does not fit input " + x.shape().str());
  Plan& plan = plan_for(x.shape());
  if (!plan.masked) plan.masked = make_masked_state(plan.shapes, plan.slot_floats);
  MaskedState& st = *plan.masked;
  for (DeviceMask& dm : st.masks) dm.count = -1;
  // The masked forward starts from (x * m, m).
  upload(plan, x);
  check(cudaMemcpyAsync(st.masks[0].m, m.tensor().data(), m.tensor().numel() * sizeof(float),
                        cudaMemcpyHostToDevice, stream_),
        "cudaMemcpyAsync (mask)");
  st.mask_of[0] = 0;
  apply_mask(plan.act[0], st.masks[0].m, x.n(), x.c(), x.h() * x.w(), stream_);
  for (int i = 0; i < index; ++i) run_masked_layer(plan, i, opt);
  return download(plan, index);
}

}  // namespace lmask::backends::cuda
