// graph.cpp — building a Graph, its shapes and its order.
#include "lmask/graph.h"

#include <limits>
#include <stdexcept>

#include "lmask/error.h"

namespace lmask {

const char* op_name(Op op) {
  switch (op) {
    case Op::input: return "input";
    case Op::conv2d: return "conv2d";
    case Op::batchnorm: return "batchnorm";
    case Op::activation: return "activation";
    case Op::maxpool: return "maxpool";
    case Op::avgpool: return "avgpool";
    case Op::global_avgpool: return "global_avgpool";
    case Op::adaptive_avgpool: return "adaptive_avgpool";
    case Op::add: return "add";
    case Op::concat: return "concat";
    case Op::channel_scale: return "channel_scale";
    case Op::linear: return "linear";
    case Op::flatten: return "flatten";
    case Op::identity: return "identity";
    case Op::fill_step: return "fill_step";
  }
  return "?";
}

int Graph::add(Node node) {
  const int id = size();
  for (int in : node.inputs)
    if (in < 0 || in >= id)
      throw std::invalid_argument(std::string("graph: ") + op_name(node.op) + " '" + node.name + "' reads node " +
                                  std::to_string(in) + ", which does not precede it");
  nodes.push_back(std::move(node));
  return id;
}

std::string node_label(const Graph& g, int id) {
  const Node& node = g.nodes.at(id);
  return "graph node " + std::to_string(id) + " (" + op_name(node.op) +
         (node.name.empty() ? "" : " '" + node.name + "'") + ")";
}

namespace {

// How many inputs each op reads; -1: one or more.
int arity(Op op) {
  switch (op) {
    case Op::input: return 0;
    case Op::add:
    case Op::channel_scale: return 2;
    case Op::concat: return -1;
    default: return 1;
  }
}

// How node_shape refuses a node: by throwing std::invalid_argument with
// the message why() builds (infer_shapes), or by giving the empty Shape
// without building it (node_shape_if_fits: no allocation).
struct Throwing {
  template <class Why>
  Shape operator()(const Why& why) const {
    throw std::invalid_argument(why());
  }
};
struct Quiet {
  template <class Why>
  Shape operator()(const Why&) const {
    return {};
  }
};

// A size computed wide (a graph read from a file may concatenate more
// channels than an int holds), and why it is refused when it is too large.
constexpr long long kMaxInt = std::numeric_limits<int>::max();
auto too_large(long long v, const char* what) {
  return [=] { return std::to_string(v) + " " + what + ", more than a shape holds"; };
}

// check_shape's message (tensor.h).
std::string shape_problem(const char* what, const Tensor& t, const Shape& expected) {
  return std::string(what) + ": expected shape " + expected.str() + ", found " + t.shape().str();
}

// The shape of node `id` from the shapes of the nodes before it.
template <class Refuse>
Shape node_shape(const Graph& g, int id, const Shape* shapes, const Shape& in, const Refuse& refuse) {
  const Node& node = g.nodes[id];
  if (node.op == Op::input) {
    if (in.c != g.in_channels)
      return refuse([&] { return "input " + in.str() + " needs " + std::to_string(g.in_channels) + " channels"; });
    return in;
  }
  const int want = arity(node.op), have = static_cast<int>(node.inputs.size());
  const bool conv_with_residual = node.op == Op::conv2d && have == 2;
  if (want >= 0 ? have != want && !conv_with_residual : have == 0)
    return refuse([&] { return "reads " + std::to_string(have) + " inputs"; });
  for (int i : node.inputs)  // Graph::add keeps this, but a graph's nodes may be edited
    if (i < 0 || i >= id)
      return refuse([&] { return "reads node " + std::to_string(i) + ", which does not precede it"; });
  const Shape s = shapes[node.inputs[0]];
  auto differs = [](const Shape& a, const Shape& b, const char* what) {
    return [=] { return std::string(what) + " " + b.str() + " != " + a.str(); };
  };
  switch (node.op) {
    case Op::conv2d: {
      const ConvParams& p = node.conv;
      if (p.padding < 0) return refuse([] { return std::string("negative padding"); });
      if (p.kernel < 1 || p.stride < 1 || p.dilation < 1 || p.in_channels < 1 || p.out_channels < 1)
        return refuse([] { return std::string("kernel, stride, dilation and channels must be at least 1"); });
      if (s.c != p.in_channels)
        return refuse([&] { return "input " + s.str() + " has not " + std::to_string(p.in_channels) + " channels"; });
      if (p.groups < 1 || p.in_channels % p.groups || p.out_channels % p.groups)
        return refuse([&] { return "groups " + std::to_string(p.groups) + " do not divide the channels"; });
      if (node.weight.shape() != p.weight_shape())
        return refuse([&] { return shape_problem("conv weight", node.weight, p.weight_shape()); });
      if (!node.bias.empty() && node.bias.shape() != Shape{1, p.out_channels, 1, 1})
        return refuse([&] { return shape_problem("conv bias", node.bias, {1, p.out_channels, 1, 1}); });
      const Shape out = p.out_shape(s);
      if (out.h < 1 || out.w < 1)
        return refuse([&] { return "window larger than the padded input " + s.str(); });
      if (conv_with_residual && out != shapes[node.inputs[1]])
        return refuse(differs(out, shapes[node.inputs[1]], "residual"));
      return out;
    }
    case Op::batchnorm:
      for (const Tensor* t : {&node.bn.gamma, &node.bn.beta, &node.bn.mean, &node.bn.var})
        if (t->shape() != Shape{1, s.c, 1, 1})
          return refuse([&] { return shape_problem("batchnorm parameter", *t, {1, s.c, 1, 1}); });
      return s;
    case Op::maxpool:
    case Op::avgpool: {
      const int oh = node.pool.out_size_or_zero(s.h), ow = node.pool.out_size_or_zero(s.w);
      if (oh < 1 || ow < 1)
        return refuse([&] {  // out_size throws, saying why
          (void)node.pool.out_size(s.h);
          (void)node.pool.out_size(s.w);
          return std::string("no output");
        });
      return {s.n, s.c, oh, ow};
    }
    case Op::global_avgpool: return {s.n, s.c, 1, 1};
    case Op::adaptive_avgpool:
      if (node.out_size < 1) return refuse([&] { return "output size " + std::to_string(node.out_size); });
      return {s.n, s.c, node.out_size, node.out_size};
    case Op::add:
      if (s != shapes[node.inputs[1]]) return refuse(differs(s, shapes[node.inputs[1]], "second operand"));
      return s;
    case Op::concat: {
      // Summed wide: a graph read from a file may concatenate more channels than an int holds.
      long long channels = 0;
      for (int i : node.inputs) {
        const Shape& t = shapes[i];
        if (t.n != s.n || t.h != s.h || t.w != s.w) return refuse(differs(s, t, "concatenated input"));
        channels += t.c;
      }
      if (channels > kMaxInt) return refuse(too_large(channels, "channels"));
      return {s.n, static_cast<int>(channels), s.h, s.w};
    }
    case Op::channel_scale:
      if (Shape{s.n, s.c, 1, 1} != shapes[node.inputs[1]])
        return refuse(differs({s.n, s.c, 1, 1}, shapes[node.inputs[1]], "scale"));
      return s;
    case Op::linear:
      if (s.h != 1 || s.w != 1) return refuse([&] { return "input " + s.str() + " is not [N,C,1,1]"; });
      if (node.weight.shape() != Shape{node.weight.n(), s.c, 1, 1})
        return refuse([&] { return shape_problem("linear weight", node.weight, {node.weight.n(), s.c, 1, 1}); });
      if (!node.bias.empty() && node.bias.shape() != Shape{1, node.weight.n(), 1, 1})
        return refuse([&] { return shape_problem("linear bias", node.bias, {1, node.weight.n(), 1, 1}); });
      return {s.n, node.weight.n(), 1, 1};
    case Op::flatten: {
      const long long values = static_cast<long long>(s.c) * s.h * s.w;
      if (values > kMaxInt) return refuse(too_large(values, "values per image"));
      return {s.n, static_cast<int>(values), 1, 1};
    }
    case Op::activation:
    case Op::identity:
    case Op::fill_step:
    case Op::input: return s;
  }
  return refuse([] { return std::string("unknown op"); });
}

}  // namespace

std::vector<Shape> infer_shapes(const Graph& g, const Shape& in) {
  std::vector<Shape> shapes;
  shapes.reserve(g.nodes.size());
  for (int id = 0; id < g.size(); ++id) {
    try {
      shapes.push_back(node_shape(g, id, shapes.data(), in, Throwing{}));
    } catch (const std::invalid_argument& e) {
      throw InputError(node_label(g, id), e.what());
    }
  }
  return shapes;
}

Shape node_shape_if_fits(const Graph& g, int id, const Shape* shapes, const Shape& in) {
  return node_shape(g, id, shapes, in, Quiet{});
}

std::vector<std::vector<int>> consumers(const Graph& g) {
  std::vector<std::vector<int>> readers(g.nodes.size());
  for (int id = 0; id < g.size(); ++id)
    for (int in : g.nodes[id].inputs)
      if (readers[in].empty() || readers[in].back() != id) readers[in].push_back(id);
  return readers;
}

std::vector<bool> needed_for(const Graph& g, int until) {
  if (until < 0 || until >= g.size()) throw std::out_of_range("graph: no node " + std::to_string(until));
  std::vector<bool> needed(g.nodes.size(), false);
  needed[until] = true;
  for (int id = until; id > 0; --id)
    if (needed[id])
      for (int in : g.nodes[id].inputs) needed[in] = true;
  return needed;
}

std::vector<int> topological_order(const std::vector<Node>& nodes) {
  // Kahn's algorithm; the order depends only on the node list.
  const int count = static_cast<int>(nodes.size());
  std::vector<int> waiting(count, 0), order;
  std::vector<std::vector<int>> readers(count);
  for (int id = 0; id < count; ++id)
    for (int in : nodes[id].inputs) {
      if (in < 0 || in >= count)
        throw InputError("graph node " + std::to_string(id) + " ('" + nodes[id].name + "')",
                         "reads node " + std::to_string(in) + ", which does not exist");
      readers[in].push_back(id);
      ++waiting[id];
    }
  std::vector<int> ready;
  for (int id = count - 1; id >= 0; --id)
    if (waiting[id] == 0) ready.push_back(id);
  while (!ready.empty()) {
    const int id = ready.back();
    ready.pop_back();
    order.push_back(id);
    for (int r : readers[id])
      if (--waiting[r] == 0) ready.push_back(r);
  }
  for (int id = 0; id < count; ++id)
    if (waiting[id] > 0)
      throw InputError("graph node " + std::to_string(id) + " ('" + nodes[id].name + "')", "is on a cycle");
  return order;
}

}  // namespace lmask
