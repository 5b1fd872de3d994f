// onednn_layers.cpp — graph nodes to oneDNN primitive descriptors (oneDNN
// 2.x API: an op descriptor, then a primitive_desc that picks the kernel).
#include "onednn_layers.h"

#include <stdexcept>
#include <string>
#include <tuple>

#include "lmask/backend.h"

namespace lmask::backends::onednn {

namespace {

using dnnl::algorithm;
using dnnl::memory;
using dt = memory::data_type;
using tag = memory::format_tag;

memory::desc any(const memory::dims& d) { return memory::desc(d, dt::f32, tag::any); }

std::string dims_str(const memory::dims& d) {
  std::string s = "[";
  for (std::size_t i = 0; i < d.size(); ++i) s += (i ? "," : "") + std::to_string(d[i]);
  return s + "]";
}

[[noreturn]] void refuse(const Graph& g, int id, const std::string& what) {
  throw Unsupported("onednn: " + node_label(g, id) + ": " + what + " is not implemented on this backend");
}

// An activation as oneDNN eltwise steps (algorithm, alpha, beta), applied in
// order. oneDNN 2.x has no hardsigmoid: relu6(v + 3) / 6 = clip(v/6 + 1/2, 0, 1).
std::vector<std::tuple<algorithm, float, float>> eltwise_steps(Activation a) {
  switch (a) {
    case Activation::relu: return {{algorithm::eltwise_relu, 0.f, 0.f}};
    case Activation::relu6: return {{algorithm::eltwise_clip, 0.f, 6.f}};
    case Activation::hardswish: return {{algorithm::eltwise_hardswish, 0.f, 0.f}};
    case Activation::hardsigmoid:
      return {{algorithm::eltwise_linear, 1.f / 6.f, 0.5f}, {algorithm::eltwise_clip, 0.f, 1.f}};
    case Activation::silu: return {{algorithm::eltwise_swish, 1.f, 0.f}};
    case Activation::sigmoid: return {{algorithm::eltwise_logistic, 0.f, 0.f}};
  }
  throw std::logic_error("onednn: unknown activation");
}

// Every primitive takes its scratchpad from the caller's arena instead of
// allocating it per call.
dnnl::primitive_attr user_scratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

memory::desc bias_desc(const Node& node, memory::dim out) {
  return node.bias.empty() ? memory::desc() : memory::desc({out}, dt::f32, tag::x);
}

template <typename Primitive>
Step step_of(const typename Primitive::primitive_desc& pd, int inputs, bool has_weights) {
  Step s;
  const dnnl::primitive_desc_base& base = pd;
  for (int i = 0; i < inputs; ++i) s.src.push_back(base.src_desc(i));
  s.dst = s.value = pd.dst_desc();
  if (has_weights) s.weights = pd.weights_desc();
  s.scratch = pd.scratchpad_desc();
  s.prims.push_back(Primitive(pd));
  return s;
}

Step conv_step(const Graph& g, int id, const std::vector<memory::desc>& src, const std::vector<int>& channels,
               const dnnl::engine& engine) {
  const Node& node = g.nodes[id];
  const ConvParams& c = node.conv;
  const memory::dims dst_dims = out_dims(g, id, {src[0].dims()}, channels);
  const bool residual = node.has_residual();
  if (residual && src[1].dims() != dst_dims)
    throw std::invalid_argument("residual " + dims_str(src[1].dims()) + " != conv output " + dims_str(dst_dims));
  const memory::dims strides{c.stride, c.stride}, dilates{c.dilation - 1, c.dilation - 1};
  const memory::dims pad{c.padding, c.padding};
  const memory::desc weights = any(plain_weights(node, c.in_channels, c.out_channels).dims());
  dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, algorithm::convolution_direct, src[0],
                                    weights, bias_desc(node, c.out_channels), residual ? src[1] : any(dst_dims),
                                    strides, dilates, pad, pad);
  dnnl::primitive_attr attr = user_scratchpad();
  dnnl::post_ops ops;
  if (residual) ops.append_sum(1.f);  // dst = conv + bias + dst (the residual)
  if (node.fused_activation)
    for (const auto& [alg, alpha, beta] : eltwise_steps(node.activation)) ops.append_eltwise(1.f, alg, alpha, beta);
  attr.set_post_ops(ops);
  Step s = step_of<dnnl::convolution_forward>({d, attr, engine}, 1, true);
  if (residual) s.src.push_back(src[1]);
  return s;
}

Step eltwise_step(Activation a, const memory::desc& src, const dnnl::engine& engine) {
  Step s;
  s.src = {src};
  s.dst = s.value = src;
  for (const auto& [alg, alpha, beta] : eltwise_steps(a)) {
    dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_inference, alg, src, alpha, beta);
    dnnl::eltwise_forward::primitive_desc pd(d, user_scratchpad(), engine);
    s.prims.push_back(dnnl::eltwise_forward(pd));
    if (pd.scratchpad_desc().get_size() > s.scratch.get_size()) s.scratch = pd.scratchpad_desc();
  }
  return s;
}

Step batchnorm_step(const Node& node, const memory::desc& src, const dnnl::engine& engine) {
  const auto flags = dnnl::normalization_flags::use_global_stats | dnnl::normalization_flags::use_scale |
                     dnnl::normalization_flags::use_shift;
  dnnl::batch_normalization_forward::desc d(dnnl::prop_kind::forward_inference, src, node.bn.eps, flags);
  return step_of<dnnl::batch_normalization_forward>({d, user_scratchpad(), engine}, 1, false);
}

// A pooling window; oneDNN wants the output size to follow from the
// paddings, so ceil_mode becomes a larger right padding.
Step pool_step(const Graph& g, int id, const memory::desc& src, const std::vector<int>& channels,
               const dnnl::engine& engine) {
  const Node& node = g.nodes[id];
  const memory::dims in = src.dims();
  const memory::dims dst = out_dims(g, id, {in}, channels);
  memory::dims kernel, strides, pad_l, pad_r;
  algorithm alg = algorithm::pooling_avg_exclude_padding;
  if (node.op == Op::maxpool || node.op == Op::avgpool) {
    const PoolParams& p = node.pool;
    kernel = {p.kernel, p.kernel}, strides = {p.stride, p.stride}, pad_l = {p.padding, p.padding};
    for (int axis : {2, 3}) {
      const memory::dim needed = (dst[axis] - 1) * p.stride + p.kernel - in[axis] - p.padding;
      pad_r.push_back(std::max<memory::dim>(p.padding, needed));
      // oneDNN counts a window's overhang past the right padding in its
      // divisor, PyTorch does not.
      if (node.op == Op::avgpool && p.count_include_pad && needed > p.padding)
        refuse(g, id, "count_include_pad with a window past the padding");
    }
    if (node.op == Op::maxpool) alg = algorithm::pooling_max;  // padding never wins
    else if (p.count_include_pad) alg = algorithm::pooling_avg_include_padding;
  } else {  // global or adaptive average: equal bins only
    if (in[2] % dst[2] || in[3] % dst[3]) refuse(g, id, "adaptive bins of unequal sizes");
    kernel = {in[2] / dst[2], in[3] / dst[3]}, strides = kernel, pad_l = {0, 0}, pad_r = {0, 0};
  }
  dnnl::pooling_forward::desc d(dnnl::prop_kind::forward_inference, alg, src, any(dst), strides, kernel, pad_l,
                                pad_r);
  return step_of<dnnl::pooling_forward>({d, user_scratchpad(), engine}, 1, false);
}

Step binary_step(algorithm alg, std::vector<memory::desc> src, const dnnl::engine& engine) {
  // A [N,C] operand (a linear's output: the squeeze-excitation scale) is the
  // [N,C,1,1] the other broadcasts against.
  if (src[1].dims().size() == 2 && src[0].dims().size() == 4)
    src[1] = src[1].reshape({src[1].dims()[0], src[1].dims()[1], 1, 1});
  dnnl::binary::desc d(alg, src[0], src[1], any(src[0].dims()));
  return step_of<dnnl::binary>({d, user_scratchpad(), engine}, 2, false);
}

Step concat_step(const std::vector<memory::desc>& src, const dnnl::engine& engine) {
  dnnl::concat::primitive_desc pd(1, src, engine, user_scratchpad());
  Step s;
  s.src = src;
  s.dst = s.value = pd.dst_desc();
  s.scratch = pd.scratchpad_desc();
  s.prims.push_back(dnnl::concat(pd));
  return s;
}

Step linear_step(const Graph& g, int id, const memory::desc& src, const std::vector<int>& channels,
                 const dnnl::engine& engine) {
  const Node& node = g.nodes[id];
  const memory::dims dst_dims = out_dims(g, id, {src.dims()}, channels);
  dnnl::inner_product_forward::desc d(dnnl::prop_kind::forward_inference, src,
                                      any(plain_weights(node, int(src.dims()[1]), channels[id],
                                                        int(src.dims().size())).dims()),
                                      bias_desc(node, dst_dims[1]), any(dst_dims));
  return step_of<dnnl::inner_product_forward>({d, user_scratchpad(), engine}, 1, true);
}

// A copy into `dst`'s layout (identity: the same).
Step copy_step(const memory::desc& src, const memory::desc& dst, const dnnl::engine& engine) {
  Step s;
  s.src = {src};
  s.dst = s.value = dst;
  s.prims.push_back(dnnl::reorder(dnnl::reorder::primitive_desc(engine, src, engine, dst)));
  return s;
}

// flatten: a copy to plain NCHW, which read as [N, C*H*W] is the flat value.
Step flatten_step(const memory::desc& src, const dnnl::engine& engine) {
  const memory::dims d = src.dims();
  if (d.size() == 2) return copy_step(src, src, engine);
  Step s = copy_step(src, memory::desc(d, dt::f32, tag::nchw), engine);
  s.value = s.dst.reshape({d[0], d[1] * d[2] * d[3]});
  return s;
}

}  // namespace

memory::dims out_dims(const Graph& g, int id, const std::vector<memory::dims>& src, const std::vector<int>& channels) {
  const Node& node = g.nodes[id];
  const memory::dim n = src[0][0], h = src[0].size() == 4 ? src[0][2] : 1, w = src[0].size() == 4 ? src[0][3] : 1;
  switch (node.op) {
    case Op::conv2d: return {n, node.conv.out_channels, node.conv.out_size(int(h)), node.conv.out_size(int(w))};
    case Op::maxpool:
    case Op::avgpool: return {n, src[0][1], node.pool.out_size(int(h)), node.pool.out_size(int(w))};
    case Op::global_avgpool: return {n, src[0][1], 1, 1};
    case Op::adaptive_avgpool: return {n, src[0][1], node.out_size, node.out_size};
    case Op::linear: return {n, channels[id]};
    case Op::flatten: return {n, src[0].size() == 4 ? src[0][1] * h * w : src[0][1]};
    case Op::concat: return {n, channels[id], h, w};
    default: return src[0];
  }
}

memory::desc plain_weights(const Node& node, int in_channels, int out_channels, int src_rank) {
  const ConvParams& c = node.conv;
  if (node.op == Op::linear)
    return src_rank == 2 ? memory::desc({out_channels, in_channels}, dt::f32, tag::oi)
                         : memory::desc({out_channels, in_channels, 1, 1}, dt::f32, tag::oihw);
  if (c.groups == 1) return memory::desc({c.out_channels, c.in_channels, c.kernel, c.kernel}, dt::f32, tag::oihw);
  return memory::desc({c.groups, c.out_channels / c.groups, c.in_channels / c.groups, c.kernel, c.kernel}, dt::f32,
                      tag::goihw);
}

Step make_step(const Graph& g, int id, const std::vector<memory::desc>& src, const std::vector<int>& channels,
               const dnnl::engine& engine) {
  const Node& node = g.nodes[id];
  try {
    switch (node.op) {
      case Op::conv2d: return conv_step(g, id, src, channels, engine);
      case Op::batchnorm: return batchnorm_step(node, src[0], engine);
      case Op::activation: return eltwise_step(node.activation, src[0], engine);
      case Op::maxpool:
      case Op::avgpool:
      case Op::global_avgpool:
      case Op::adaptive_avgpool: return pool_step(g, id, src[0], channels, engine);
      case Op::add: return binary_step(algorithm::binary_add, src, engine);
      case Op::channel_scale: return binary_step(algorithm::binary_mul, src, engine);
      case Op::concat: return concat_step(src, engine);
      case Op::linear: return linear_step(g, id, src[0], channels, engine);
      case Op::flatten: return flatten_step(src[0], engine);
      case Op::identity:
      case Op::fill_step: return copy_step(src[0], src[0], engine);  // clean: the input as it is
      case Op::input: break;
    }
  } catch (const Unsupported&) {
    throw;
  } catch (const std::exception& e) {
    throw std::runtime_error("onednn: cannot prepare " + node_label(g, id) + " on input " + dims_str(src[0].dims()) +
                             ": " + e.what());
  }
  throw std::logic_error("onednn: a second input node");
}

}  // namespace lmask::backends::onednn
