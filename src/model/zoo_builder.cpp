// zoo_builder.cpp — growing a torchvision model's graph from its weights
// (zoo_builder.h).
#include "zoo_builder.h"

#include "lmask/error.h"

namespace lmask {

ZooBuilder::ZooBuilder(const Weights& w) : w_(w) {
  g_.in_channels = 3;
  channels_[0] = g_.in_channels;
}

void ZooBuilder::fail(const std::string& what) const { throw InputError(w_.path, what); }

namespace {

std::string joined(const std::vector<int>& v) {
  std::string s;
  for (int x : v) s += (s.empty() ? "" : ", ") + std::to_string(x);
  return s;
}

}  // namespace

void ZooBuilder::check_signature(const Signatures& known, const std::vector<int>& found,
                                 const std::string& what) const {
  std::string expected = "unknown", match;
  for (const auto& [arch, numbers] : known) {
    if (arch == w_.arch) {
      if (numbers == found) return;
      expected = joined(numbers);
    }
    if (numbers == found) match = arch;
  }
  fail("its arch attribute says " + w_.arch + " (" + what + ": " + expected + "), but its weights have " +
       joined(found) + (match.empty() ? "" : " (" + match + "'s)"));
}

const Tensor& ZooBuilder::tensor(const std::string& key) {
  const auto it = w_.params.find(key);
  if (it == w_.params.end()) fail("missing key '" + key + "'; is this the right architecture (" + w_.arch + ")?");
  used_.insert(key);
  return it->second;
}

int ZooBuilder::add(Node node, int channels) {
  const int id = g_.add(std::move(node));
  channels_.push_back(channels);
  return id;
}

int ZooBuilder::conv(int x, const std::string& name, int stride, bool bias, int padding) {
  Node n(Op::conv2d, {x}, name);
  n.weight = tensor(name + ".weight");
  const Shape& s = n.weight.shape();
  const int in = channels(x);
  if (s.h != s.w || s.c < 1 || in % s.c != 0 || s.n % (in / s.c) != 0)
    fail("key '" + name + ".weight' has shape " + s.str() + "; it does not fit an input of " + std::to_string(in) +
         " channels");
  ConvParams& p = n.conv;
  p.in_channels = in, p.out_channels = s.n, p.kernel = s.h, p.stride = stride, p.groups = in / s.c;
  p.padding = padding >= 0 ? padding : (s.h - 1) / 2;
  if (bias) {
    n.bias = tensor(name + ".bias");
    if (n.bias.shape() != Shape{1, s.n, 1, 1}) fail("key '" + name + ".bias' has shape " + n.bias.shape().str());
  }
  return add(std::move(n), s.n);
}

int ZooBuilder::batchnorm(int x, const std::string& name, float eps) {
  Node n(Op::batchnorm, {x}, name);
  BatchNormParams& bn = n.bn;
  bn.gamma = tensor(name + ".weight"), bn.beta = tensor(name + ".bias");
  bn.mean = tensor(name + ".running_mean"), bn.var = tensor(name + ".running_var");
  bn.eps = eps;
  const Shape want{1, channels(x), 1, 1};
  for (const Tensor* t : {&bn.gamma, &bn.beta, &bn.mean, &bn.var})
    if (t->shape() != want)
      fail("BatchNorm '" + name + "' has " + std::to_string(t->numel()) + " channels; its input has " +
           std::to_string(channels(x)));
  return add(std::move(n), channels(x));
}

int ZooBuilder::activation(int x, Activation f, const std::string& name) {
  Node n(Op::activation, {x}, name);
  n.activation = f;
  return add(std::move(n), channels(x));
}

int ZooBuilder::conv_bn(int x, const std::string& prefix, int stride, float eps, bool with_activation,
                        Activation f) {
  const int t = batchnorm(conv(x, prefix + ".0", stride, false), prefix + ".1", eps);
  return with_activation ? activation(t, f, prefix + ".2") : t;
}

int ZooBuilder::squeeze_excitation(int x, const std::string& prefix, Activation inner, Activation gate) {
  int s = global_avgpool(x, prefix + ".avgpool");
  s = activation(conv(s, prefix + ".fc1", 1, true), inner, prefix + ".activation");
  s = activation(conv(s, prefix + ".fc2", 1, true), gate, prefix + ".scale_activation");
  if (channels(s) != channels(x)) fail("squeeze-excitation '" + prefix + "' does not give one scale per channel");
  return op(Op::channel_scale, {x, s}, prefix);
}

int ZooBuilder::maxpool(int x, const std::string& name, int kernel, int stride, int padding, bool ceil_mode) {
  Node n(Op::maxpool, {x}, name);
  n.pool.kernel = kernel, n.pool.stride = stride, n.pool.padding = padding, n.pool.ceil_mode = ceil_mode;
  return add(std::move(n), channels(x));
}

int ZooBuilder::avgpool(int x, const std::string& name, int kernel, int stride) {
  Node n(Op::avgpool, {x}, name);
  n.pool.kernel = kernel, n.pool.stride = stride;
  return add(std::move(n), channels(x));
}

int ZooBuilder::global_avgpool(int x, const std::string& name, bool allmean) {
  Node n(Op::global_avgpool, {x}, name);
  n.allmean = allmean;
  return add(std::move(n), channels(x));
}

int ZooBuilder::linear(int x, const std::string& name) {
  Node n(Op::linear, {x}, name);
  n.weight = tensor(name + ".weight");
  n.bias = tensor(name + ".bias");
  const int out = n.weight.n();
  if (n.weight.shape() != Shape{out, channels(x), 1, 1} || n.bias.shape() != Shape{1, out, 1, 1})
    fail("Linear '" + name + "' has weight " + n.weight.shape().str() + " and bias " + n.bias.shape().str() +
         "; its input has " + std::to_string(channels(x)) + " features");
  return add(std::move(n), out);
}

int ZooBuilder::op(Op op, std::vector<int> inputs, const std::string& name) {
  int c = channels(inputs.at(0));
  if (op == Op::concat)
    for (std::size_t i = 1; i < inputs.size(); ++i) c += channels(inputs[i]);
  return add(Node(op, std::move(inputs), name), c);
}

Graph ZooBuilder::finish(int output, int features) {
  for (const auto& [key, t] : w_.params)
    if (!used_.count(key)) fail("key '" + key + "' is not part of a " + w_.arch + " as lmask builds it");
  g_.output = output, g_.features = features;
  return std::move(g_);
}

int inverted_residual(ZooBuilder& b, int x, const std::string& prefix, int stride, float eps,
                      const BlockActivations& f) {
  int modules = 0;
  while (b.has(prefix + ".block." + std::to_string(modules) + ".0.weight") ||
         b.has(prefix + ".block." + std::to_string(modules) + ".fc1.weight"))
    ++modules;
  if (modules < 2) b.fail("block '" + prefix + "' has " + std::to_string(modules) + " modules; expected 2 or more");
  int t = x;
  for (int k = 0; k < modules; ++k) {
    const std::string m = prefix + ".block." + std::to_string(k);
    if (b.has(m + ".fc1.weight")) {
      t = b.squeeze_excitation(t, m, f.se_inner, f.se_gate);
      continue;
    }
    const bool spatial = b.has(m + ".0.weight") && b.kernel_of(m + ".0.weight") > 1;
    t = b.conv_bn(t, m, spatial ? stride : 1, eps, /*with_activation=*/k + 1 < modules, f.act);
  }
  // Same size and channels: stride 1 and C_in = C_out (stochastic depth is the identity).
  if (stride == 1 && b.channels(t) == b.channels(x)) t = b.op(Op::add, {t, x}, prefix + ".add");
  return t;
}

}  // namespace lmask
