// graph_json_read.cpp — a Graph from its description (graph_json.h), the
// tensors from the weight file.
//
// The text comes from a file, so nothing in it is trusted: every field is
// required and checked for its type and range before it sizes anything,
// fields a version-1 node does not have are refused (a misspelt "stirde"
// must not pass unnoticed), and every problem is one InputError line naming
// the source and, inside a node, the node ("node 4 (conv2d 'features.0.0'):
// ..."; node numbers are positions in the file's "nodes" list). Only
// scalars are ever printed back, so a deeply nested value costs nothing to
// report (nlohmann's parser and destructor do not recurse; its dump does).
#include <cmath>
#include <cstdint>
#include <optional>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

#include "lmask/error.h"
#include "lmask/graph_json.h"

namespace lmask {

namespace {

using json = nlohmann::json;

// Nesting a description may have: the format needs 4 (root, "nodes", a
// node, its "inputs"); a later version may need more and must still reach
// its version check.
constexpr int kMaxDepth = 32;

constexpr Op kOps[] = {Op::input,          Op::conv2d,   Op::batchnorm, Op::activation,    Op::maxpool,
                       Op::avgpool,        Op::global_avgpool,          Op::adaptive_avgpool, Op::add,
                       Op::concat,         Op::channel_scale,           Op::linear,    Op::flatten, Op::identity,
                       Op::fill_step};
constexpr Activation kActivations[] = {Activation::relu, Activation::relu6, Activation::hardswish,
                                       Activation::hardsigmoid, Activation::silu, Activation::sigmoid};

// The parameters each op's node has besides op, name and inputs.
std::vector<const char*> op_fields(Op op) {
  switch (op) {
    case Op::conv2d: return {"kernel", "stride", "padding", "dilation", "groups", "weight", "bias"};
    case Op::batchnorm: return {"weight", "bias", "running_mean", "running_var", "eps"};
    case Op::activation: return {"kind"};
    case Op::maxpool: return {"kernel", "stride", "padding", "ceil_mode"};
    case Op::avgpool: return {"kernel", "stride", "padding", "ceil_mode", "count_include_pad"};
    case Op::adaptive_avgpool: return {"out_size"};
    case Op::global_avgpool: return {"allmean"};  // optional: absent is false
    case Op::linear: return {"weight", "bias"};
    default: return {};
  }
}

// How many inputs a node of `op` reads: [lo, hi].
std::pair<int, int> input_count(Op op) {
  switch (op) {
    case Op::input: return {0, 0};
    case Op::add:
    case Op::channel_scale: return {2, 2};
    case Op::concat: return {1, kMaxGraphNodes};
    default: return {1, 1};
  }
}

std::string dims_text(const std::vector<std::size_t>& d) {
  std::string s = "[";
  for (std::size_t i = 0; i < d.size(); ++i) s += (i ? "," : "") + std::to_string(d[i]);
  return s + "]";
}

// A string from the file as a message quotes it: at most 64 bytes, cut
// before a UTF-8 continuation byte.
std::string clip(const std::string& s) {
  constexpr std::size_t kMax = 64;
  if (s.size() <= kMax) return s;
  std::size_t end = kMax;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end) + "...";
}

// A JSON value as a message shows it: a scalar as written, else its type.
std::string shown(const json& v) {
  if (v.is_primitive() && !v.is_string()) return v.dump();
  if (v.is_string()) return "the string '" + clip(v.get<std::string>()) + "'";
  return std::string("an ") + v.type_name();
}

// Reads one description; `where` is the node being read, for messages.
class DescriptionReader {
 public:
  DescriptionReader(const Weights& weights, const std::string& source) : weights_(weights), source_(source) {}

  Graph read(const std::string& text);

 private:
  [[noreturn]] void fail(const std::string& problem) const { throw InputError(source_, where_ + problem); }

  // ---- fields ----
  const json& field(const json& obj, const char* key) const {
    auto it = obj.find(key);
    if (it == obj.end()) fail(std::string("missing field '") + key + "'");
    return *it;
  }
  void only_fields(const json& obj, const std::vector<const char*>& common,
                   const std::vector<const char*>& own = {}) const {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      bool known = false;
      for (const auto* list : {&common, &own})
        for (const char* k : *list) known = known || it.key() == k;
      if (!known) fail("unknown field '" + clip(it.key()) + "'");
    }
  }
  // A JSON integer that fits int64 (nlohmann keeps non-negative ones unsigned).
  static std::optional<std::int64_t> integer(const json& v) {
    if (v.is_number_unsigned())
      return v.get<std::uint64_t>() <= std::uint64_t(INT64_MAX) ? std::optional<std::int64_t>(v.get<std::int64_t>())
                                                                 : std::nullopt;
    if (v.is_number_integer()) return v.get<std::int64_t>();
    return std::nullopt;
  }
  int whole(const json& obj, const char* key, int lo, int hi) const {
    const json& v = field(obj, key);
    const std::optional<std::int64_t> i = integer(v);
    if (!i || *i < lo || *i > hi)
      fail(std::string("field '") + key + "' is " + shown(v) + "; expected a whole number in " + std::to_string(lo) +
           ".." + std::to_string(hi));
    return static_cast<int>(*i);
  }
  int node_id(const json& v, const std::string& what, int count) const {
    const std::optional<std::int64_t> i = integer(v);
    if (!i || *i < 0 || *i >= count)
      fail(what + " is " + shown(v) + "; expected a node id in 0.." + std::to_string(count - 1));
    return static_cast<int>(*i);
  }
  bool flag(const json& obj, const char* key) const {
    const json& v = field(obj, key);
    if (!v.is_boolean()) fail(std::string("field '") + key + "' is " + shown(v) + "; expected true or false");
    return v.get<bool>();
  }
  std::string text(const json& obj, const char* key) const {
    const json& v = field(obj, key);
    if (!v.is_string()) fail(std::string("field '") + key + "' is " + shown(v) + "; expected a string");
    return v.get<std::string>();
  }
  // A tensor name, or null for none (a bias).
  std::optional<std::string> text_or_null(const json& obj, const char* key) const {
    const json& v = field(obj, key);
    if (v.is_null()) return std::nullopt;
    if (!v.is_string()) fail(std::string("field '") + key + "' is " + shown(v) + "; expected a string or null");
    return v.get<std::string>();
  }

  // ---- tensors ----
  // The tensor named by field `key`; its shape is checked by the caller.
  const Tensor& tensor(const json& obj, const char* key) const { return named_tensor(key, text(obj, key)); }
  const Tensor& named_tensor(const char* key, const std::string& name) const {
    auto it = weights_.params.find(name);
    if (it == weights_.params.end())
      fail(std::string(key) + " '" + clip(name) + "' is not in the weight file");
    return it->second;
  }
  // The file's own shape of a tensor, for messages.
  std::string file_shape(const std::string& name) const {
    auto it = weights_.dims.find(name);
    return it != weights_.dims.end() ? dims_text(it->second) : weights_.params.at(name).shape().str();
  }
  void expect(bool ok, const char* key, const json& obj, const std::string& expected) const {
    if (!ok) {
      const std::string name = obj.at(key).get<std::string>();
      fail(std::string(key) + " '" + clip(name) + "' has shape " + file_shape(name) + "; expected " + expected);
    }
  }
  // A [C] vector (bias, batchnorm parameter); stored as [1,C,1,1].
  void expect_vector(const Tensor& t, int c, const char* key, const json& obj, const std::string& why) const {
    expect(t.shape() == Shape{1, c, 1, 1}, key, obj, "[" + std::to_string(c) + "], " + why);
  }

  // ---- nodes ----
  Node read_node(const json& j, int id, int count);
  void read_conv(const json& j, Node& node) const;
  void read_batchnorm(const json& j, Node& node) const;
  void read_linear(const json& j, Node& node) const;

  const Weights& weights_;
  const std::string& source_;
  std::string where_;  // "node 3 (conv2d 'x'): " while a node is read
};

void DescriptionReader::read_conv(const json& j, Node& node) const {
  ConvParams& p = node.conv;
  p.kernel = whole(j, "kernel", 1, kMaxGraphWindow);
  p.stride = whole(j, "stride", 1, kMaxGraphWindow);
  p.padding = whole(j, "padding", 0, kMaxGraphWindow);
  p.dilation = whole(j, "dilation", 1, kMaxGraphWindow);
  p.groups = whole(j, "groups", 1, kMaxGraphChannels);
  // The channel counts are the weight's: [O, I/groups, K, K].
  node.weight = tensor(j, "weight");
  const Shape s = node.weight.shape();
  const std::string k = std::to_string(p.kernel);
  // No side 0: a file may hold an empty dataset, which no forward runs.
  expect(s.h == p.kernel && s.w == p.kernel && s.n >= 1 && s.n <= kMaxGraphChannels && s.c >= 1 &&
             s.c <= kMaxGraphChannels / p.groups,
         "weight", j, "[O,I/groups," + k + "," + k + "] with at most " + std::to_string(kMaxGraphChannels) +
                          " channels");
  p.out_channels = s.n, p.in_channels = s.c * p.groups;
  if (auto bias = text_or_null(j, "bias")) {
    node.bias = named_tensor("bias", *bias);
    expect_vector(node.bias, p.out_channels, "bias", j, "one per output channel of the weight");
  }
}

void DescriptionReader::read_batchnorm(const json& j, Node& node) const {
  BatchNormParams& bn = node.bn;
  bn.gamma = tensor(j, "weight");
  const int c = bn.gamma.c();
  expect(bn.gamma.shape() == Shape{1, c, 1, 1} && c >= 1, "weight", j, "[C], one per channel");
  bn.beta = tensor(j, "bias");
  expect_vector(bn.beta, c, "bias", j, "one per channel of the weight");
  bn.mean = tensor(j, "running_mean");
  expect_vector(bn.mean, c, "running_mean", j, "one per channel of the weight");
  bn.var = tensor(j, "running_var");
  expect_vector(bn.var, c, "running_var", j, "one per channel of the weight");
  const json& eps = field(j, "eps");
  // As a float, as PyTorch keeps it; positive, since var + eps is a divisor's square.
  const float e = eps.is_number() ? static_cast<float>(eps.get<double>()) : 0.f;
  if (!(e > 0) || !std::isfinite(e)) fail("field 'eps' is " + shown(eps) + "; expected a positive number");
  bn.eps = e;
}

void DescriptionReader::read_linear(const json& j, Node& node) const {
  node.weight = tensor(j, "weight");
  const Shape s = node.weight.shape();
  expect(s.h == 1 && s.w == 1 && s.n >= 1 && s.c >= 1, "weight", j, "[out_features,in_features]");
  if (auto bias = text_or_null(j, "bias")) {
    node.bias = named_tensor("bias", *bias);
    expect_vector(node.bias, s.n, "bias", j, "one per output of the weight");
  }
}

Node DescriptionReader::read_node(const json& j, int id, int count) {
  where_ = "node " + std::to_string(id) + ": ";
  if (!j.is_object()) fail("is " + shown(j) + "; expected an object");
  const std::string op_text = text(j, "op");
  const Op* op = nullptr;
  for (const Op& o : kOps) op = op_text == op_name(o) ? &o : op;
  if (!op) fail("unknown op '" + clip(op_text) + "'");
  Node node;
  node.op = *op;
  node.name = text(j, "name");
  where_ = "node " + std::to_string(id) + " (" + op_text + " '" + clip(node.name) + "'): ";
  only_fields(j, {"op", "name", "inputs"}, op_fields(node.op));
  if (id == 0 && node.op != Op::input) fail("is not the input; node 0 must be");
  if (id > 0 && node.op == Op::input) fail("is a second input; only node 0 is the input");

  const json& inputs = field(j, "inputs");
  const auto [lo, hi] = input_count(node.op);
  if (!inputs.is_array() || int(inputs.size()) < lo || int(inputs.size()) > hi)
    fail("field 'inputs' is " + (inputs.is_array() ? "a list of " + std::to_string(inputs.size()) : shown(inputs)) +
         "; expected a list of " + std::to_string(lo) + (hi > lo ? " or more" : "") + " node ids");
  for (const json& in : inputs) node.inputs.push_back(node_id(in, "an input", count));

  switch (node.op) {
    case Op::conv2d: read_conv(j, node); break;
    case Op::batchnorm: read_batchnorm(j, node); break;
    case Op::activation: {
      const std::string kind = text(j, "kind");
      const Activation* a = nullptr;
      for (const Activation& k : kActivations) a = kind == activation_name(k) ? &k : a;
      if (!a) fail("unknown activation '" + clip(kind) + "'");
      node.activation = *a;
      break;
    }
    case Op::maxpool:
    case Op::avgpool:
      node.pool.kernel = whole(j, "kernel", 1, kMaxGraphWindow);
      node.pool.stride = whole(j, "stride", 1, kMaxGraphWindow);
      node.pool.padding = whole(j, "padding", 0, kMaxGraphWindow);
      node.pool.ceil_mode = flag(j, "ceil_mode");
      if (node.op == Op::avgpool) node.pool.count_include_pad = flag(j, "count_include_pad");
      break;
    case Op::adaptive_avgpool: node.out_size = whole(j, "out_size", 1, kMaxGraphWindow); break;
    case Op::linear: read_linear(j, node); break;
    case Op::global_avgpool: node.allmean = j.contains("allmean") && flag(j, "allmean"); break;
    case Op::input:
    case Op::add:
    case Op::concat:
    case Op::channel_scale:
    case Op::flatten:
    case Op::identity:
    case Op::fill_step: break;
  }
  where_.clear();
  return node;
}

Graph DescriptionReader::read(const std::string& text) {
  // While parsing: no key twice in one object (nlohmann would keep the
  // last silently), and a depth bound far above the format's 4 levels that
  // keeps malformed nesting from costing memory.
  std::vector<std::set<std::string>> open_objects;
  const json::parser_callback_t check = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth > kMaxDepth) fail("nests values deeper than " + std::to_string(kMaxDepth) + " levels");
    if (event == json::parse_event_t::object_start) {
      open_objects.emplace_back();
    } else if (event == json::parse_event_t::object_end && !open_objects.empty()) {
      open_objects.pop_back();
    } else if (event == json::parse_event_t::key && !open_objects.empty() &&
               !open_objects.back().insert(parsed.get<std::string>()).second) {
      fail("field '" + clip(parsed.get<std::string>()) + "' appears twice in one object");
    }
    return true;
  };
  json doc;
  try {
    doc = json::parse(text, check);
  } catch (const json::exception& e) {
    // "[json.exception.parse_error.101] parse error at line 1, ...": the part after the tag.
    const std::string what = e.what();
    const std::size_t tag = what.find("] ");
    fail("not valid JSON: " + (tag == std::string::npos ? what : what.substr(tag + 2)));
  }
  // Format and version first: a newer description may have fields this reader does not know.
  if (!doc.is_object()) fail("is " + shown(doc) + ", not a graph description (a JSON object)");
  const json& format = field(doc, "format");
  if (!format.is_string() || format.get<std::string>() != kGraphFormatName)
    fail("field 'format' is " + shown(format) + "; expected '" + kGraphFormatName + "'");
  const json& version = field(doc, "version");
  const std::optional<std::int64_t> v = integer(version);
  if (!v || *v < 1) fail("field 'version' is " + shown(version) + "; expected a whole number from 1");
  if (*v > kGraphFormatVersion)
    fail("graph description version " + std::to_string(*v) + " is newer than this lmask reads (version " +
         std::to_string(kGraphFormatVersion) + "); read it with a newer lmask");
  only_fields(doc, {"format", "version", "in_channels", "nodes", "output", "features", "stages"});

  Graph g;
  g.in_channels = whole(doc, "in_channels", 1, kMaxGraphChannels);
  const json& list = field(doc, "nodes");
  if (!list.is_array() || list.empty() || list.size() > std::size_t(kMaxGraphNodes))
    fail("field 'nodes' is " + (list.is_array() ? "a list of " + std::to_string(list.size()) : shown(list)) +
         "; expected a list of 1.." + std::to_string(kMaxGraphNodes) + " nodes");
  const int count = static_cast<int>(list.size());
  std::vector<Node> nodes;
  for (int id = 0; id < count; ++id) nodes.push_back(read_node(list[id], id, count));
  const int output = node_id(field(doc, "output"), "field 'output'", count);
  const json& features = field(doc, "features");
  const int feature_node = features.is_null() ? -1 : node_id(features, "field 'features'", count);
  const json& stages = field(doc, "stages");
  if (!stages.is_array()) fail("field 'stages' is " + shown(stages) + "; expected a list of [name, node id]");
  std::vector<std::pair<std::string, int>> stage_ends;
  for (const json& s : stages) {
    if (!s.is_array() || s.size() != 2 || !s[0].is_string())
      fail("field 'stages' holds " + shown(s) + "; expected [name, node id]");
    const std::string name = s[0].get<std::string>();
    stage_ends.emplace_back(name, node_id(s[1], "the end of stage '" + clip(name) + "'", count));
  }

  // The file's order when it already is topological, so that ids stay the
  // file's; else Kahn's (node 0, the only node without inputs, stays first).
  bool in_order = true;
  for (int id = 0; id < count; ++id)
    for (int in : nodes[id].inputs) in_order = in_order && in < id;
  std::vector<int> order(count), new_id(count);
  if (in_order) {
    for (int id = 0; id < count; ++id) order[id] = id;
  } else {
    try {
      order = topological_order(nodes);
    } catch (const InputError& e) {
      fail(e.what());
    }
  }
  for (int i = 0; i < count; ++i) new_id[order[i]] = i;
  g.nodes.clear();
  for (int old : order) {
    Node node = std::move(nodes[old]);
    for (int& in : node.inputs) in = new_id[in];
    g.add(std::move(node));
  }
  g.output = new_id[output];
  g.features = feature_node < 0 ? -1 : new_id[feature_node];
  for (auto& [name, id] : stage_ends) g.stages.emplace_back(name, new_id[id]);

  // Shapes at the file's input size: channel counts, operand shapes,
  // windows; and no value a forward could not allocate.
  const std::string at_size = " (at the weight file's input size " + std::to_string(weights_.input_size) + ")";
  std::vector<Shape> shapes;
  try {
    shapes = infer_shapes(g, {1, g.in_channels, weights_.input_size, weights_.input_size});
  } catch (const InputError& e) {
    fail(e.what() + at_size);
  }
  for (int id = 0; id < g.size(); ++id)
    if (shapes[id].image_size() > kMaxGraphImageValues)
      fail(node_label(g, id) + ": its value " + shapes[id].str() + " holds more than " +
           std::to_string(kMaxGraphImageValues) + " values per image" + at_size);
  return g;
}

}  // namespace

Graph graph_from_json(const std::string& text, const Weights& weights, const std::string& source) {
  return DescriptionReader(weights, source).read(text);
}

Graph graph_from_description(const Weights& weights) {
  if (weights.graph_json.empty())
    throw InputError(weights.path, "has no graph description (attribute lmask_graph)");
  return graph_from_json(weights.graph_json, weights, weights.path + ": attribute 'lmask_graph'");
}

}  // namespace lmask
