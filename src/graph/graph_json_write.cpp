// graph_json_write.cpp — a Graph's description (graph_json.h): its nodes as
// JSON, its tensors as the names they have in the weight file.
//
// The layout is fixed so that the text is the same whoever writes it
// (tools/lmask_graph.py writes the same bytes): keys in the order of
// docs/graph_format.md, no spaces, one node per line, eps as the shortest
// decimal that reads back to the same float (1e-3f is written 0.001, as
// the PyTorch module says, not 0.0010000000474974513).
#include <charconv>
#include <cstdlib>
#include <memory>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "lmask/graph_json.h"

namespace lmask {

namespace {

using ordered_json = nlohmann::ordered_json;

// A float as the double of its shortest round-trip decimal.
double shortest(float v) {
  char buf[32];
  const auto end = std::to_chars(buf, buf + sizeof buf - 1, v).ptr;
  *end = '\0';
  return std::strtod(buf, nullptr);
}

// The names a description gives g's tensors, checked: every tensor has
// one, and one name means one tensor (a shared tensor may appear twice).
class TensorNames {
 public:
  TensorNames(const Graph& g, const WeightNaming& naming) : g_(g), naming_(naming) {}

  // Node `id`'s names, each recorded against its tensor.
  WeightNames of(int id) {
    const Node& node = g_.nodes[id];
    WeightNames names = naming_(node);
    switch (node.op) {
      case Op::conv2d:
      case Op::linear:
        if (node.weight.empty()) refuse(id, "has no weight");
        record(id, names.weight, node.weight);
        if (!node.bias.empty()) record(id, names.bias, node.bias);
        break;
      case Op::batchnorm:
        record(id, names.weight, node.bn.gamma);
        record(id, names.bias, node.bn.beta);
        record(id, names.running_mean, node.bn.mean);
        record(id, names.running_var, node.bn.var);
        break;
      default: break;
    }
    return names;
  }

  const std::map<std::string, Tensor>& tensors() const { return tensors_; }

  [[noreturn]] void refuse(int id, const std::string& problem) const {
    throw std::invalid_argument("graph_to_json: " + node_label(g_, id) + " " + problem);
  }

 private:
  void record(int id, const std::string& name, const Tensor& t) {
    if (t.empty()) refuse(id, "has no tensor for '" + name + "'");
    if (name.empty()) refuse(id, "has a tensor without a name");
    auto [it, added] = tensors_.emplace(name, t);
    if (!added && (it->second.data() != t.data() || it->second.shape() != t.shape()))
      refuse(id, "names a tensor '" + name + "', the name of another tensor already");
  }

  const Graph& g_;
  const WeightNaming& naming_;
  std::map<std::string, Tensor> tensors_;
};

ordered_json bias_name(const Tensor& bias, const std::string& name) {
  return bias.empty() ? ordered_json(nullptr) : ordered_json(name);
}

// One node: op, name, inputs, then its op's parameters.
ordered_json node_json(const Graph& g, int id, TensorNames& names) {
  const Node& node = g.nodes[id];
  if (node.fused_activation || node.has_residual())
    names.refuse(id, "has a fused epilogue; describe the graph before fuse_epilogues");
  const WeightNames w = names.of(id);
  ordered_json j;
  j["op"] = op_name(node.op);
  j["name"] = node.name;
  j["inputs"] = node.inputs;
  switch (node.op) {
    case Op::conv2d:
      j["kernel"] = node.conv.kernel;
      j["stride"] = node.conv.stride;
      j["padding"] = node.conv.padding;
      j["dilation"] = node.conv.dilation;
      j["groups"] = node.conv.groups;
      j["weight"] = w.weight;
      j["bias"] = bias_name(node.bias, w.bias);
      break;
    case Op::batchnorm:
      j["weight"] = w.weight;
      j["bias"] = w.bias;
      j["running_mean"] = w.running_mean;
      j["running_var"] = w.running_var;
      j["eps"] = shortest(node.bn.eps);
      break;
    case Op::activation: j["kind"] = activation_name(node.activation); break;
    case Op::maxpool:
    case Op::avgpool:
      j["kernel"] = node.pool.kernel;
      j["stride"] = node.pool.stride;
      j["padding"] = node.pool.padding;
      j["ceil_mode"] = node.pool.ceil_mode;
      if (node.op == Op::avgpool) j["count_include_pad"] = node.pool.count_include_pad;
      break;
    case Op::adaptive_avgpool: j["out_size"] = node.out_size; break;
    case Op::linear:
      j["weight"] = w.weight;
      j["bias"] = bias_name(node.bias, w.bias);
      break;
    case Op::global_avgpool:
      if (node.allmean) j["allmean"] = true;  // written only when set: older descriptions stay as they were
      break;
    case Op::input:
    case Op::add:
    case Op::concat:
    case Op::channel_scale:
    case Op::flatten:
    case Op::identity:
    case Op::fill_step: break;
  }
  return j;
}

// JSON text of j; a name that is not UTF-8 has no JSON text.
std::string dump(const ordered_json& j, const std::string& what) {
  try {
    return j.dump();
  } catch (const nlohmann::json::exception&) {
    throw std::invalid_argument("graph_to_json: " + what + " holds a string that is not UTF-8");
  }
}

}  // namespace

WeightNames torchvision_weight_names(const Node& node) {
  return {node.name + ".weight", node.name + ".bias", node.name + ".running_mean", node.name + ".running_var"};
}

WeightNaming weight_names_in(const Weights& weights) {
  auto by_address = std::make_shared<std::map<const float*, std::string>>();
  for (const auto& [name, t] : weights.params)
    if (!t.empty()) by_address->emplace(t.data(), name);
  return [by_address](const Node& node) {
    auto name = [&](const Tensor& t) {
      auto it = t.empty() ? by_address->end() : by_address->find(t.data());
      return it == by_address->end() ? std::string() : it->second;
    };
    const bool bn = node.op == Op::batchnorm;
    return WeightNames{name(bn ? node.bn.gamma : node.weight), name(bn ? node.bn.beta : node.bias), name(node.bn.mean),
                       name(node.bn.var)};
  };
}

std::string graph_to_json(const Graph& g, const WeightNaming& naming) {
  TensorNames names(g, naming);
  std::string text = "{\"format\":\"" + std::string(kGraphFormatName) +
                     "\",\"version\":" + std::to_string(kGraphFormatVersion) +
                     ",\"in_channels\":" + std::to_string(g.in_channels) + ",\"nodes\":[";
  for (int id = 0; id < g.size(); ++id)
    text += (id ? ",\n" : "\n") + dump(node_json(g, id, names), node_label(g, id));
  ordered_json stages = ordered_json::array();
  for (const auto& [name, id] : g.stages) stages.push_back({name, id});
  const ordered_json features = g.features >= 0 ? ordered_json(g.features) : ordered_json(nullptr);
  text += "\n],\"output\":" + std::to_string(g.output) + ",\"features\":" + features.dump() +
          ",\"stages\":" + dump(stages, "a stage name") + "}\n";
  return text;
}

std::map<std::string, Tensor> graph_weights(const Graph& g, const WeightNaming& naming) {
  TensorNames names(g, naming);
  for (int id = 0; id < g.size(); ++id) node_json(g, id, names);
  return names.tensors();
}

}  // namespace lmask
