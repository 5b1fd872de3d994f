// graph.h — a CNN as a graph of ops: what every backend runs, clean or
// layer-masked.
//
// A Graph is a DAG of Nodes kept in topological order: node 0 is the input
// image, every node reads only earlier nodes, and node i's value is
// "activation i". A node is an op kind, its parameters, the nodes it reads
// and its weights (named by their torchvision state_dict keys, so a graph
// says where each tensor came from). How each op treats a mask is not here
// but in mask_rules.h, one row per op.
//
// Graphs come from a model builder (src/model: resnet_graph) and are then
// rewritten by passes (graph_passes.h) that keep their values: fold each
// BatchNorm into the conv before it, fuse a conv's activation and residual
// add into its epilogue.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "lmask/ops.h"
#include "lmask/tensor.h"

namespace lmask {

enum class Op {
  input,             // the image [N,C,H,W]; node 0 only
  conv2d,            // conv (groups, stride, padding, dilation) + bias; epilogue below
  batchnorm,         // (x - mean) / sqrt(var + eps) * gamma + beta, its own eps
  activation,        // relu, relu6, hardswish, hardsigmoid, silu, sigmoid
  maxpool,           // pool params; padding never wins
  avgpool,           // pool params (ceil_mode, count_include_pad)
  global_avgpool,    // [N,C,1,1] = mean over H,W (masked: vismean, or allmean when `allmean`)
  adaptive_avgpool,  // [N,C,S,S], PyTorch's bins
  add,               // x0 + x1 (same shape)
  concat,            // the inputs one after another along C
  channel_scale,     // x0 [N,C,H,W] * x1 [N,C,1,1] (squeeze-excitation)
  linear,            // [N,O,1,1] = x [N,I,1,1] . weight [O,I,1,1]^T + bias
  flatten,           // [N,C*H*W,1,1]
  identity,          // dropout and stochastic depth in eval: the input as it is
  fill_step,         // clean: the input as it is; masked: one step of the fill, the mask grown
                     // by one pixel (SqueezeNet's Fire: LAYER_MASKING_ZOO.md's equivalent form)
};
const char* op_name(Op op);

struct Node {
  Node() = default;
  Node(Op op, std::vector<int> inputs, std::string name = {})
      : op(op), inputs(std::move(inputs)), name(std::move(name)) {}

  Op op = Op::identity;
  std::vector<int> inputs;  // node ids, each < this node's
  std::string name;         // the module's state_dict prefix ("layer1.0.conv1"), for errors

  ConvParams conv;          // conv2d
  PoolParams pool;          // maxpool, avgpool
  int out_size = 1;         // adaptive_avgpool: S
  // global_avgpool under layer masking: mean_hw(x * m), removed positions
  // counted as zeros, instead of vismean. The authors' SqueezeNet and
  // DenseNet heads (LAYER_MASKING_ZOO.md, deviation 1); clean, the same mean.
  bool allmean = false;
  Activation activation = Activation::relu;  // activation
  Tensor weight, bias;      // conv2d [O,I/groups,K,K], linear [O,I,1,1]; bias [1,O,1,1] or empty
  BatchNormParams bn;       // batchnorm

  // A conv's epilogue, set by fuse_epilogues (graph_passes.h): with a second
  // input, y = conv(x0) + bias + x1 (the residual add) then, when `fused`,
  // the activation. The node then stands for conv2d -> [add] -> [activation].
  bool fused_activation = false;
  bool has_residual() const { return op == Op::conv2d && inputs.size() == 2; }
};

struct Graph {
  int in_channels = 3;
  std::vector<Node> nodes{Node(Op::input, {})};  // node 0: the input
  int output = 0;     // the logits
  int features = -1;  // the pooled features (the last linear's input); -1: none
  // The ends of the model's top-level stages ("stem", "layer1", ...), in
  // order: where tests and observers look inside the network.
  std::vector<std::pair<std::string, int>> stages;

  // Appends a node and returns its id. Throws std::invalid_argument unless
  // its inputs exist already (so the order stays topological).
  int add(Node node);
  const Node& operator[](int id) const { return nodes.at(id); }
  int size() const { return static_cast<int>(nodes.size()); }
};

// "graph node 5 (conv2d 'layer1.0.conv1')": how errors name a node.
std::string node_label(const Graph& g, int id);

// Per node, the shape of its value for an input of shape `in`. Throws
// InputError naming the node (name and op) on inputs that do not fit (a conv
// with the wrong channel count, an add of different shapes, a window larger
// than the padded input, a weight of the wrong shape).
std::vector<Shape> infer_shapes(const Graph& g, const Shape& in);

// The shape of node `id`'s value from the shapes of the nodes before it
// (shapes[i] for node i < id; node 0's is `in`), or the empty Shape when
// they do not fit the node: infer_shapes' rule for one node, without
// throwing or allocating, for checking shapes worked out before (the
// embedded forward's plan, embedded.h).
Shape node_shape_if_fits(const Graph& g, int id, const Shape* shapes, const Shape& in);

// Per node, the nodes reading it, in id order.
std::vector<std::vector<int>> consumers(const Graph& g);

// Per node, whether node `until` depends on it (itself included): what a
// forward to `until` runs.
std::vector<bool> needed_for(const Graph& g, int until);

// A topological order of `nodes` (inputs before readers; node ids are
// indices into `nodes`, in any order), or InputError naming a node on a
// cycle or a missing input. A Graph's own order already is one; this is for
// graph descriptions read from files.
std::vector<int> topological_order(const std::vector<Node>& nodes);

}  // namespace lmask
