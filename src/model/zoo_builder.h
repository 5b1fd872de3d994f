// zoo_builder.h — what the builders of torchvision's other CNNs share
// (squeezenet_graph.cpp, densenet_graph.cpp, mobilenet_v3_graph.cpp,
// efficientnet_graph.cpp): a Graph grown node by node from a weight file's
// state_dict keys, the layer sizes read from the tensors' shapes, so one
// builder serves every width and depth of a family. The nodes share the
// file's tensors. Private to src/model.
#pragma once

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "lmask/graph.h"
#include "lmask/weights.h"

namespace lmask {

class ZooBuilder {
 public:
  explicit ZooBuilder(const Weights& w);

  bool has(const std::string& key) const { return w_.params.count(key) != 0; }
  int kernel_of(const std::string& key) const { return w_.params.at(key).w(); }
  int channels(int node) const { return channels_.at(node); }

  // Conv2d `name` on x: kernel and channels from NAME.weight [O, I/g, k, k]
  // (groups g from x's channels), NAME.bias when `bias`; padding (k-1)/2
  // unless given.
  int conv(int x, const std::string& name, int stride, bool bias, int padding = -1);
  int batchnorm(int x, const std::string& name, float eps);
  int activation(int x, Activation f, const std::string& name);
  // torchvision's Conv2dNormActivation `prefix`: PREFIX.0 conv (no bias),
  // PREFIX.1 BatchNorm, then `f` unless `with_activation` is false.
  int conv_bn(int x, const std::string& prefix, int stride, float eps, bool with_activation, Activation f);
  // SqueezeExcitation `prefix` on x: vismean, PREFIX.fc1 (1x1 + bias),
  // `inner`, PREFIX.fc2, `gate`, then x scaled per channel.
  int squeeze_excitation(int x, const std::string& prefix, Activation inner, Activation gate);
  int maxpool(int x, const std::string& name, int kernel, int stride, int padding, bool ceil_mode);
  int avgpool(int x, const std::string& name, int kernel, int stride);
  int global_avgpool(int x, const std::string& name, bool allmean = false);
  int linear(int x, const std::string& name);
  int op(Op op, std::vector<int> inputs, const std::string& name);  // add, concat, flatten, identity, fill_step

  void stage(const std::string& name, int node) { g_.stages.emplace_back(name, node); }

  // The numbers that tell one family's architectures apart (`what`: "dense
  // layers per block", ...), `known` giving each architecture's: InputError
  // naming the file when `found`, the file's, are not those of its `arch`
  // attribute. The builder could run any member, since it reads the sizes
  // from the weights, but the name is what every report shows, and some of
  // what an architecture computes is not in its weights (EfficientNet-B5's
  // BatchNorm eps).
  using Signatures = std::vector<std::pair<std::string, std::vector<int>>>;
  void check_signature(const Signatures& known, const std::vector<int>& found, const std::string& what) const;

  // The graph, its output and features set; InputError naming the file
  // when a tensor of it was never read (a file of another architecture, or
  // a layer this builder does not know).
  Graph finish(int output, int features);

  // InputError naming the file.
  [[noreturn]] void fail(const std::string& what) const;

 private:
  const Tensor& tensor(const std::string& key);
  int add(Node node, int channels);

  const Weights& w_;
  Graph g_;
  std::vector<int> channels_{0};
  std::set<std::string> used_;
};

// torchvision's InvertedResidual (MobileNetV3) and MBConv (EfficientNet)
// `prefix` on x: its modules PREFIX.block.0, .1, ... in order, each a
// squeeze-excitation (it has fc1: `se_inner`, `se_gate`) or a
// Conv2dNormActivation with `act`, except the last (the projection), which
// has none; the k x k (depthwise) conv takes `stride`. The block input is
// added when the block keeps its size and channels.
struct BlockActivations {
  Activation act, se_inner, se_gate;
};
int inverted_residual(ZooBuilder& b, int x, const std::string& prefix, int stride, float eps,
                      const BlockActivations& f);

// Per architecture; InputError naming the file for one that is not of the
// family (missing keys, shapes that do not chain).
Graph squeezenet_graph(const Weights& w);
Graph densenet_graph(const Weights& w);
Graph mobilenet_v3_graph(const Weights& w);
Graph efficientnet_graph(const Weights& w);

}  // namespace lmask
