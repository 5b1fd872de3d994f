// graph_json_cases.h — the graphs the graph-description tests write and read
// back (test_graph_json.cpp, test_graph_json_errors.cpp), built the way a
// model builder builds them: torchvision names, BatchNorm as its own node.
//
// tests/graph_description_case.py builds the same graphs with
// tools/lmask_graph.py; a change here needs the same change there.
#pragma once

#include <functional>
#include <sstream>
#include <string>

#include "lmask/graph.h"
#include "lmask/graph_json.h"
#include "lmask/weights.h"
#include "reference_ops.h"

namespace lmask::testing {

// Where a case's tensors come from: (state_dict key, shape) -> tensor.
using TensorSource = std::function<Tensor(const std::string& name, Shape shape)>;

// Seeded random tensors, one seed per tensor in the order they are asked for;
// running variances positive.
inline TensorSource random_tensors(std::uint32_t seed) {
  return [seed](const std::string& name, Shape shape) mutable {
    const bool var = name.size() > 4 && name.compare(name.size() - 4, 4, "_var") == 0;
    return var ? random_tensor(shape, seed++, 0.5f, 1.5f) : random_tensor(shape, seed++, -0.5f, 0.5f);
  };
}

// Adds nodes with their tensors from a TensorSource.
class CaseBuilder {
 public:
  CaseBuilder(int in_channels, TensorSource tensors) : tensors_(std::move(tensors)) { g_.in_channels = in_channels; }

  int conv(int x, const std::string& name, int in, int out, int k, int s, int p, int d = 1, int groups = 1,
           bool bias = false) {
    Node n(Op::conv2d, {x}, name);
    n.conv.in_channels = in, n.conv.out_channels = out;
    n.conv.kernel = k, n.conv.stride = s, n.conv.padding = p, n.conv.dilation = d, n.conv.groups = groups;
    n.weight = tensors_(name + ".weight", n.conv.weight_shape());
    if (bias) n.bias = tensors_(name + ".bias", {1, out, 1, 1});
    return g_.add(std::move(n));
  }
  int bn(int x, const std::string& name, int c, float eps = 1e-5f) {
    Node n(Op::batchnorm, {x}, name);
    n.bn.gamma = tensors_(name + ".weight", {1, c, 1, 1});
    n.bn.beta = tensors_(name + ".bias", {1, c, 1, 1});
    n.bn.mean = tensors_(name + ".running_mean", {1, c, 1, 1});
    n.bn.var = tensors_(name + ".running_var", {1, c, 1, 1});
    n.bn.eps = eps;
    return g_.add(std::move(n));
  }
  int act(int x, Activation a, const std::string& name) {
    Node n(Op::activation, {x}, name);
    n.activation = a;
    return g_.add(std::move(n));
  }
  int pool(Op op, int x, const std::string& name, int k, int s, int p, bool ceil = false, bool include_pad = true) {
    Node n(op, {x}, name);
    n.pool.kernel = k, n.pool.stride = s, n.pool.padding = p, n.pool.ceil_mode = ceil;
    n.pool.count_include_pad = include_pad;
    return g_.add(std::move(n));
  }
  int adaptive(int x, const std::string& name, int size) {
    Node n(Op::adaptive_avgpool, {x}, name);
    n.out_size = size;
    return g_.add(std::move(n));
  }
  int linear(int x, const std::string& name, int in, int out, bool bias = true) {
    Node n(Op::linear, {x}, name);
    n.weight = tensors_(name + ".weight", {out, in, 1, 1});
    if (bias) n.bias = tensors_(name + ".bias", {1, out, 1, 1});
    return g_.add(std::move(n));
  }
  int op(Op op, std::vector<int> inputs, const std::string& name) { return g_.add(Node(op, std::move(inputs), name)); }

  Graph& graph() { return g_; }

 private:
  Graph g_;
  TensorSource tensors_;
};

// Every op of graph.h and every activation, every parameter off its
// default somewhere: [N,3,H,W] -> [N,5,1,1] for any H, W >= 3.
inline Graph every_op_graph(const TensorSource& tensors) {
  CaseBuilder b(3, tensors);
  using A = Activation;
  int t = b.conv(0, "stem.conv", 3, 8, 3, 2, 1);
  t = b.bn(t, "stem.bn", 8, 1e-3f);
  t = b.act(t, A::hardswish, "stem.act");
  b.graph().stages.emplace_back("stem", t);
  const int dw = b.act(b.conv(t, "block.dw", 8, 8, 3, 1, 2, 2, 8, true), A::relu6, "block.dw_act");
  const int mp = b.pool(Op::maxpool, dw, "block.max", 3, 1, 1, true);
  const int ap = b.act(b.pool(Op::avgpool, dw, "block.avg", 3, 1, 1, false, false), A::relu, "block.avg_act");
  const int sum = b.op(Op::add, {mp, ap}, "block.add");
  // Squeeze-excitation: pool, 1x1 conv, silu, linear, hardsigmoid, scale.
  const int q = b.op(Op::global_avgpool, {sum}, "block.se.pool");
  b.graph().nodes[q].allmean = true;
  const int fc1 = b.act(b.conv(q, "block.se.fc1", 8, 4, 1, 1, 0, 1, 1, true), A::silu, "block.se.act");
  const int gate = b.act(b.linear(fc1, "block.se.fc2", 4, 8), A::hardsigmoid, "block.se.gate");
  const int se = b.op(Op::channel_scale, {sum, gate}, "block.se.scale");
  const int side = b.act(b.conv(sum, "block.side", 8, 6, 1, 1, 0), A::sigmoid, "block.side_act");
  t = b.op(Op::concat, {se, side, se}, "block.cat");
  b.graph().stages.emplace_back("block", t);
  t = b.op(Op::identity, {t}, "head.dropout");
  t = b.op(Op::fill_step, {t}, "head.fill");
  t = b.pool(Op::avgpool, t, "head.avg", 2, 1, 0, true, true);
  t = b.adaptive(t, "head.pool", 2);
  b.graph().features = t = b.op(Op::flatten, {t}, "head.flatten");
  b.graph().output = b.linear(t, "head.fc", 22 * 4, 5);
  return b.graph();
}

// torchvision's resnet18 with every width divided by 8 (64 -> 8) and 10
// classes, node by node as ResNet::graph() builds one.
inline Graph small_resnet18_graph(const TensorSource& tensors) {
  CaseBuilder b(3, tensors);
  auto relu = [&](int x, const std::string& name) { return b.act(x, Activation::relu, name); };
  int t = relu(b.bn(b.conv(0, "conv1", 3, 8, 7, 2, 3), "bn1", 8), "relu");
  t = b.pool(Op::maxpool, t, "maxpool", 3, 2, 1);
  b.graph().stages.emplace_back("stem", t);
  int in = 8;
  for (int stage = 0; stage < 4; ++stage) {
    const int planes = 8 << stage;
    for (int block = 0; block < 2; ++block) {
      const std::string p = "layer" + std::to_string(stage + 1) + "." + std::to_string(block) + ".";
      const int stride = stage > 0 && block == 0 ? 2 : 1;
      const int x = t;
      t = relu(b.bn(b.conv(x, p + "conv1", in, planes, 3, stride, 1), p + "bn1", planes), p + "relu");
      const int identity = in != planes ? b.bn(b.conv(x, p + "downsample.0", in, planes, 1, stride, 0),
                                               p + "downsample.1", planes)
                                        : x;
      t = b.bn(b.conv(t, p + "conv2", planes, planes, 3, 1, 1), p + "bn2", planes);
      t = relu(b.op(Op::add, {t, identity}, p + "add"), p + "relu");
      in = planes;
    }
    b.graph().stages.emplace_back("layer" + std::to_string(stage + 1), t);
  }
  b.graph().features = b.op(Op::global_avgpool, {t}, "avgpool");
  b.graph().output = b.linear(b.graph().features, "fc", in, 10);
  return b.graph();
}

// What a weight file holding g's tensors reads as: each tensor under its
// name, with the shape a file would give it ([C] for a vector, [O,I] for a
// linear weight), and a small input size for the shape check.
inline Weights weights_of(const Graph& g, int input_size = 16) {
  Weights w;
  w.path = "case.h5";
  w.arch = "described";
  w.input_size = input_size;
  w.resize_size = input_size;
  for (const auto& [name, t] : graph_weights(g)) {
    const Shape s = t.shape();
    w.params.emplace(name, t);
    if (s.n == 1 && s.h == 1 && s.w == 1)
      w.dims[name] = {std::size_t(s.c)};
    else if (s.h == 1 && s.w == 1)
      w.dims[name] = {std::size_t(s.n), std::size_t(s.c)};
    else
      w.dims[name] = {std::size_t(s.n), std::size_t(s.c), std::size_t(s.h), std::size_t(s.w)};
  }
  return w;
}

// Everything a node is, its tensors by address: equal texts, equal graphs.
inline std::string node_text(const Node& n) {
  std::ostringstream os;
  os << op_name(n.op) << " '" << n.name << "' in";
  for (int i : n.inputs) os << " " << i;
  const ConvParams& c = n.conv;
  const PoolParams& p = n.pool;
  const BatchNormParams& bn = n.bn;
  os << " conv " << c.in_channels << "->" << c.out_channels << " k" << c.kernel << " s" << c.stride << " p"
     << c.padding << " d" << c.dilation << " g" << c.groups << " pool k" << p.kernel << " s" << p.stride << " p"
     << p.padding << " ceil " << p.ceil_mode << " incl " << p.count_include_pad << " S" << n.out_size << " "
     << activation_name(n.activation) << " fused " << n.fused_activation << " eps " << bn.eps << " tensors "
     << n.weight.data() << " " << n.bias.data() << " " << bn.gamma.data() << " " << bn.beta.data() << " "
     << bn.mean.data() << " " << bn.var.data();
  return os.str();
}

inline std::string graph_text(const Graph& g) {
  std::ostringstream os;
  os << "in_channels " << g.in_channels << " output " << g.output << " features " << g.features << " stages";
  for (const auto& [name, id] : g.stages) os << " " << name << "=" << id;
  for (int id = 0; id < g.size(); ++id) os << "\n" << id << ": " << node_text(g[id]);
  return os.str();
}

}  // namespace lmask::testing
