// onednn_layers.cpp — LayerGraph layers to oneDNN primitive descriptors (oneDNN
// 2.x API: an op descriptor, then a primitive_desc that picks the kernel).
#include "onednn_layers.h"

#include <stdexcept>
#include <string>

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

// Every primitive takes its scratchpad from the caller's arena instead of
// allocating it per call; the conv's post-ops carry the residual and ReLU.
dnnl::primitive_attr attributes(const Layer& l) {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (l.op == Layer::Op::conv) {
    dnnl::post_ops ops;
    if (l.residual >= 0) ops.append_sum(1.f);  // dst = conv + bias + dst (the identity)
    if (l.relu) ops.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f);
    attr.set_post_ops(ops);
  }
  return attr;
}

memory::desc bias_desc(const Layer& l, memory::dim out) {
  return l.bias ? memory::desc({out}, dt::f32, tag::x) : memory::desc();
}

template <typename Primitive>
Step step_of(const typename Primitive::primitive_desc& pd, bool has_weights) {
  Step s;
  s.src = pd.src_desc();
  s.dst = pd.dst_desc();
  if (has_weights) s.weights = pd.weights_desc();
  s.scratch = pd.scratchpad_desc();
  s.prim = Primitive(pd);
  return s;
}

Step conv_step(const Layer& l, const memory::desc& src, const memory::desc* residual,
               const dnnl::engine& engine) {
  const ConvParams& c = l.conv;
  const memory::dims dst_dims = out_dims(l, src.dims());
  if (residual && residual->dims() != dst_dims)
    throw std::invalid_argument("residual " + dims_str(residual->dims()) + " != conv output " +
                                dims_str(dst_dims));
  const memory::dims strides{c.stride, c.stride}, dilates{c.dilation - 1, c.dilation - 1};
  const memory::dims pad{c.padding, c.padding};
  const memory::desc weights = any(plain_weights(l, src).dims());
  dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, algorithm::convolution_direct,
                                    src, weights, bias_desc(l, c.out_channels),
                                    residual ? *residual : any(dst_dims), strides, dilates, pad, pad);
  return step_of<dnnl::convolution_forward>({d, attributes(l), engine}, true);
}

Step pool_step(const Layer& l, const memory::desc& src, const dnnl::engine& engine) {
  const memory::dims in = src.dims();
  const bool max = l.op == Layer::Op::maxpool;
  const memory::dims kernel = max ? memory::dims{l.conv.kernel, l.conv.kernel} : memory::dims{in[2], in[3]};
  const memory::dims strides = max ? memory::dims{l.conv.stride, l.conv.stride} : memory::dims{1, 1};
  const memory::dims pad = max ? memory::dims{l.conv.padding, l.conv.padding} : memory::dims{0, 0};
  // Max pooling never lets padding win; the global average has none.
  dnnl::pooling_forward::desc d(dnnl::prop_kind::forward_inference,
                                max ? algorithm::pooling_max : algorithm::pooling_avg_exclude_padding,
                                src, any(out_dims(l, in)), strides, kernel, pad, pad);
  return step_of<dnnl::pooling_forward>({d, attributes(l), engine}, false);
}

Step linear_step(const Layer& l, const memory::desc& src, const dnnl::engine& engine) {
  const memory::dims dst_dims = out_dims(l, src.dims());
  dnnl::inner_product_forward::desc d(dnnl::prop_kind::forward_inference, src,
                                      any(plain_weights(l, src).dims()), bias_desc(l, dst_dims[1]),
                                      any(dst_dims));
  return step_of<dnnl::inner_product_forward>({d, attributes(l), engine}, true);
}

const char* op_name(Layer::Op op) {
  switch (op) {
    case Layer::Op::conv: return "conv";
    case Layer::Op::maxpool: return "maxpool";
    case Layer::Op::global_avgpool: return "global_avgpool";
    case Layer::Op::linear: return "linear";
  }
  return "?";
}

}  // namespace

memory::dims out_dims(const Layer& l, const memory::dims& src) {
  const memory::dim n = src[0], h = src[2], w = src[3];
  const ConvParams& c = l.conv;
  switch (l.op) {
    case Layer::Op::conv: return {n, c.out_channels, c.out_size(int(h)), c.out_size(int(w))};
    case Layer::Op::maxpool:
      return {n, src[1], pool_out_size(int(h), c.kernel, c.stride, c.padding),
              pool_out_size(int(w), c.kernel, c.stride, c.padding)};
    case Layer::Op::global_avgpool: return {n, src[1], 1, 1};
    case Layer::Op::linear: return {n, l.weight->n()};
  }
  return {};
}

memory::desc plain_weights(const Layer& l, const memory::desc& src) {
  const ConvParams& c = l.conv;
  if (l.op == Layer::Op::linear) {
    const memory::dims in = src.dims();  // the flattened input is the weight's row
    return memory::desc({l.weight->n(), in[1], in[2], in[3]}, dt::f32, tag::oihw);
  }
  if (c.groups == 1)
    return memory::desc({c.out_channels, c.in_channels, c.kernel, c.kernel}, dt::f32, tag::oihw);
  return memory::desc({c.groups, c.out_channels / c.groups, c.in_channels / c.groups, c.kernel, c.kernel},
                      dt::f32, tag::goihw);
}

Step make_step(const Layer& l, const memory::desc& src, const memory::desc* residual,
               const dnnl::engine& engine) {
  try {
    switch (l.op) {
      case Layer::Op::conv: return conv_step(l, src, residual, engine);
      case Layer::Op::maxpool:
      case Layer::Op::global_avgpool: return pool_step(l, src, engine);
      case Layer::Op::linear: return linear_step(l, src, engine);
    }
  } catch (const std::exception& e) {
    const ConvParams& c = l.conv;
    throw std::runtime_error(std::string("onednn: cannot prepare ") + op_name(l.op) + " k=" +
                             std::to_string(c.kernel) + " s=" + std::to_string(c.stride) + " p=" +
                             std::to_string(c.padding) + " on input " + dims_str(src.dims()) + ": " +
                             e.what());
  }
  throw std::logic_error("onednn: unknown layer op");
}

}  // namespace lmask::backends::onednn
