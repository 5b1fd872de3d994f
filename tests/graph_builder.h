// graph_builder.h — small graphs op by op for the backend tests (the op
// table's rows, test_op_table.cpp; the CUDA zoo blocks,
// test_zoo_ops_cuda.cpp): every weight drawn from the next of a fixed run
// of seeds, scaled to keep values O(1), each node appended as the graph's
// output.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "graph_cases.h"
#include "lmask/graph.h"
#include "reference_ops.h"

namespace lmask::testing {

class GraphBuilder {
 public:
  GraphBuilder(Shape input, std::uint32_t seed) : input_(input), next_(seed + 1) { graph_.in_channels = input.c; }

  int conv(int src, int out, int k, int s = 1, int p = 0, int d = 1, int groups = 1, bool bias = true) {
    Node n(Op::conv2d, {src}, "conv");
    ConvParams& c = n.conv;
    c.in_channels = channels(src), c.out_channels = out;
    c.kernel = k, c.stride = s, c.padding = p, c.dilation = d, c.groups = groups;
    n.weight = weights_for(c.weight_shape(), c.col_rows(), next_++);
    if (bias) n.bias = random_tensor({1, out, 1, 1}, next_++, -0.5f, 0.5f);
    return add(std::move(n));
  }
  int batchnorm(int src, float eps) {
    Node n(Op::batchnorm, {src}, "bn");
    const int c = channels(src);
    n.bn.gamma = random_tensor({1, c, 1, 1}, next_++, 0.5f, 1.5f);
    n.bn.beta = random_tensor({1, c, 1, 1}, next_++, -0.5f, 0.5f);
    n.bn.mean = random_tensor({1, c, 1, 1}, next_++, -0.5f, 0.5f);
    n.bn.var = random_tensor({1, c, 1, 1}, next_++, 0.5f, 1.5f);
    n.bn.eps = eps;
    return add(std::move(n));
  }
  int activation(int src, Activation a) {
    Node n(Op::activation, {src}, activation_name(a));
    n.activation = a;
    return add(std::move(n));
  }
  int pool(Op op, int src, int k, int s, int p, bool ceil = false, bool count_include_pad = true) {
    Node n(op, {src}, op_name(op));
    n.pool.kernel = k, n.pool.stride = s, n.pool.padding = p;
    n.pool.ceil_mode = ceil, n.pool.count_include_pad = count_include_pad;
    return add(std::move(n));
  }
  int adaptive(int src, int size) {
    Node n(Op::adaptive_avgpool, {src}, "adaptive_avgpool");
    n.out_size = size;
    return add(std::move(n));
  }
  int linear(int src, int out, bool bias = true) {
    Node n(Op::linear, {src}, "fc");
    const int in = channels(src);
    n.weight = weights_for({out, in, 1, 1}, in, next_++);
    if (bias) n.bias = random_tensor({1, out, 1, 1}, next_++, -0.5f, 0.5f);
    return add(std::move(n));
  }
  // global_avgpool, add, concat, channel_scale, flatten, identity, fill_step.
  int op(Op op, std::vector<int> inputs) { return add(Node(op, std::move(inputs), op_name(op))); }
  void allmean(int pool) { graph_.nodes[pool].allmean = true; }

  const Graph& graph() const { return graph_; }
  const Shape& input() const { return input_; }
  int channels(int src) const { return infer_shapes(graph_, input_)[src].c; }

 private:
  int add(Node n) {
    graph_.output = graph_.add(std::move(n));
    return graph_.output;
  }

  Graph graph_;
  Shape input_;
  std::uint32_t next_;  // the next weight's seed
};

}  // namespace lmask::testing
