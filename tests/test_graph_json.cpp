// test_graph_json.cpp — graph descriptions (graph_json.h) that read back to
// the graph they describe: from the C++ writer and from tools/lmask_graph.py
// (through tests/graph_description_case.py), as text and as the lmask_graph
// attribute of an HDF5 weight file. "The same graph" is checked three ways:
// node for node (every parameter, every tensor by address), the shapes
// infer_shapes gives, and the outputs of both forwards, bit for bit.
// Bad descriptions are test_graph_json_errors.cpp's.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "golden.h"
#include "graph_json_cases.h"
#include "lmask/error.h"
#include "lmask/graph_forward.h"
#include "lmask/graph_json.h"
#include "lmask/graph_passes.h"
#include "lmask/model.h"
#include "lmask/resnet.h"
#include "lmask/weights.h"
#include "reference_ops.h"
#include "temp_dir.h"

using namespace lmask;
using namespace lmask::testing;

namespace {

// Runs tests/graph_description_case.py MODE OUT and returns what it wrote.
std::string python_case(const TempDir& dir, const std::string& mode) {
  const std::string out = dir.file(mode + (mode == "every-op-h5" ? ".h5" : ".json"));
  const std::string cmd = std::string(LMASK_PYTHON) + " " + LMASK_SOURCE_DIR + "/tests/graph_description_case.py " +
                          mode + " " + out;
  INFO("command: " << cmd);
  REQUIRE(std::system(cmd.c_str()) == 0);
  return out;
}

// Both forwards of a and b on the same input and mask: bit for bit equal.
void check_same_outputs(const Graph& a, const Graph& b, const Shape& in) {
  const Tensor x = random_tensor(in, 11);
  const Mask m = random_mask(in.n, in.h, in.w, 0.6, 12);
  CHECK(max_abs_diff(run_graph(a, x), run_graph(b, x)) == 0.f);
  const LayerMaskingOptions options;
  CHECK(max_abs_diff(run_graph_masked(a, x, m, options).x, run_graph_masked(b, x, m, options).x) == 0.f);
}

// graph -> text -> graph: the same nodes, shapes and outputs, and the read
// graph writes the same text.
void check_round_trip(const Graph& g, const Shape& in) {
  const Weights w = weights_of(g);
  const std::string text = graph_to_json(g);
  const Graph back = graph_from_json(text, w, "case.json");
  CHECK(graph_text(back) == graph_text(g));
  const std::vector<Shape> want = infer_shapes(g, in), got = infer_shapes(back, in);
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) CHECK_MESSAGE(got[i] == want[i], "node " << i);
  check_same_outputs(g, back, in);
  CHECK(graph_to_json(back) == text);
}

}  // namespace

TEST_CASE("graph json: a graph of every op and activation round-trips (nodes, shapes, both forwards)") {
  const Graph g = every_op_graph(random_tensors(100));
  std::vector<bool> ops(15, false), activations(6, false);
  for (const Node& n : g.nodes) {
    ops[int(n.op)] = true;
    if (n.op == Op::activation) activations[int(n.activation)] = true;
  }
  CHECK(std::count(ops.begin(), ops.end(), true) == 15);  // Op::fill_step is the last of graph.h's 15
  CHECK(std::count(activations.begin(), activations.end(), true) == 6);
  check_round_trip(g, {2, 3, 9, 11});
}

TEST_CASE("graph json: a small ResNet-18 round-trips, and the read graph goes through the passes") {
  const Graph g = small_resnet18_graph(random_tensors(200));
  check_round_trip(g, {2, 3, 32, 27});
  const Graph back = graph_from_json(graph_to_json(g), weights_of(g), "resnet18.json");
  const Tensor x = random_tensor({1, 3, 32, 32}, 5);
  CHECK(relative_error(run_graph(fuse_epilogues(fold_batchnorms(back)), x), run_graph(g, x)) < 1e-5);
}

TEST_CASE("graph json: nodes listed out of order are renumbered topologically, ends and stages follow") {
  const Graph g = every_op_graph(random_tensors(300));
  nlohmann::json doc = nlohmann::json::parse(graph_to_json(g));
  // Node 0 stays first; the others reversed, every id renumbered.
  const int count = g.size();
  auto moved = [&](int id) { return id == 0 ? 0 : count - id; };
  nlohmann::json nodes = nlohmann::json::array();
  nodes.push_back(doc["nodes"][0]);
  for (int id = count - 1; id >= 1; --id) {
    nlohmann::json n = doc["nodes"][id];
    for (auto& in : n["inputs"]) in = moved(in.get<int>());
    nodes.push_back(n);
  }
  doc["nodes"] = nodes;
  doc["output"] = moved(g.output), doc["features"] = moved(g.features);
  for (auto& s : doc["stages"]) s[1] = moved(s[1].get<int>());

  const Graph back = graph_from_json(doc.dump(), weights_of(g), "shuffled.json");
  REQUIRE(back.size() == count);
  for (int id = 0; id < back.size(); ++id)
    for (int in : back[id].inputs) CHECK(in < id);
  CHECK(back[back.output].name == g[g.output].name);
  CHECK(back[back.features].name == g[g.features].name);
  REQUIRE(back.stages.size() == g.stages.size());
  for (std::size_t i = 0; i < g.stages.size(); ++i) {
    CHECK(back.stages[i].first == g.stages[i].first);
    CHECK(back[back.stages[i].second].name == g[g.stages[i].second].name);
  }
  check_same_outputs(g, back, {2, 3, 10, 9});
}

TEST_CASE("graph json: a description may name any key, and weight_names_in describes its graph again") {
  const Graph g = every_op_graph(random_tensors(350));
  const Weights w = weights_of(g);
  nlohmann::json doc = nlohmann::json::parse(graph_to_json(g));
  doc["nodes"][13]["name"] = "se_fc2";  // its tensors keep their keys, block.se.fc2.*
  doc["nodes"][2]["name"] = "";
  const Graph back = graph_from_json(doc.dump(), w, "renamed.json");
  CHECK(back[13].weight.data() == g[13].weight.data());
  CHECK(graph_to_json(back).find("\"se_fc2.weight\"") != std::string::npos);  // torchvision's rule: not in the file
  const std::string again = graph_to_json(back, weight_names_in(w));
  CHECK(nlohmann::json::parse(again) == doc);
  // A tensor the Weights do not hold has no name there.
  Graph foreign = g;
  foreign.nodes[1].weight = foreign.nodes[1].weight.clone();
  CHECK_THROWS_WITH_AS(graph_to_json(foreign, weight_names_in(w)), doctest::Contains("a tensor without a name"),
                       std::invalid_argument);
}

TEST_CASE("graph json: the writer refuses what a description cannot hold") {
  const Graph g = small_resnet18_graph(random_tensors(400));
  // After fuse_epilogues a conv stands for conv + add + relu: no torchvision module.
  CHECK_THROWS_WITH_AS(graph_to_json(fuse_epilogues(fold_batchnorms(g))), doctest::Contains("fused epilogue"),
                       std::invalid_argument);
  // Two different tensors under one name.
  Graph twins = g;
  for (Node& n : twins.nodes)
    if (n.name == "layer1.0.conv2") n.name = "layer1.0.conv1";
  CHECK_THROWS_WITH_AS(graph_to_json(twins), doctest::Contains("'layer1.0.conv1.weight'"), std::invalid_argument);
  // A custom naming: every key prefixed, both the text and graph_weights.
  const WeightNaming prefixed = [](const Node& n) {
    WeightNames w = torchvision_weight_names(n);
    for (std::string* s : {&w.weight, &w.bias, &w.running_mean, &w.running_var}) *s = "model." + *s;
    return w;
  };
  const std::map<std::string, Tensor> named = graph_weights(g, prefixed);
  CHECK(named.count("model.fc.weight") == 1);
  CHECK(graph_to_json(g, prefixed).find("\"model.layer4.1.bn2.running_var\"") != std::string::npos);
}

TEST_CASE("graph json: tools/lmask_graph.py writes the C++ writer's bytes, which read to the same graph") {
  const TempDir dir("graph_json_py");
  const Graph g = every_op_graph(random_tensors(500));
  const std::string text = slurp(python_case(dir, "every-op"));
  CHECK(text == graph_to_json(g));
  CHECK(nlohmann::json::parse(text) == nlohmann::json::parse(graph_to_json(g)));
  const Graph back = graph_from_json(text, weights_of(g), "every-op.json");
  CHECK(graph_text(back) == graph_text(g));
  check_same_outputs(g, back, {1, 3, 7, 8});
}

TEST_CASE("graph json: lmask_graph.py's resnet18 is ResNet::graph() of the zoo's resnet18, and runs like it") {
  const TempDir dir("graph_json_resnet18");
  const Weights w = load_weights(golden_path("zoo/resnet18_random.h5"));
  LoadOptions unfolded;
  unfolded.fold_bn = false;
  const ResNet net = ResNet::load(w, unfolded);
  const std::string text = slurp(python_case(dir, "resnet18"));
  CHECK(text == graph_to_json(net.graph()));
  const Graph back = graph_from_json(text, w, w.path);
  const Tensor x = random_tensor({1, 3, 40, 40}, 9);
  CHECK(max_abs_diff(run_graph(back, x), run_graph(net.graph(), x)) == 0.f);
  // The library's own forward (BatchNorm folded) on a fresh load: folding
  // rewrites the tensors it is given, which `w` shares.
  CHECK(relative_error(run_graph(back, x), ResNet::load(w.path).forward(x)) < 1e-4);
}

TEST_CASE("graph json: a weight file written by h5py with the lmask_graph attribute loads as its graph") {
  const TempDir dir("graph_json_h5");
  const Weights w = load_weights(python_case(dir, "every-op-h5"));
  REQUIRE(!w.graph_json.empty());
  const Graph g = graph_from_description(w);
  // The same graph built here from the file's tensors (by name, shapes checked).
  const Graph want = every_op_graph([&](const std::string& name, Shape shape) {
    const Tensor& t = w.params.at(name);
    CHECK(t.shape() == shape);
    return t;
  });
  CHECK(graph_text(g) == graph_text(want));
  check_same_outputs(g, want, {2, 3, w.input_size, w.input_size});

  // Without the attribute the graph comes from `arch`: graph_json stays empty.
  const Weights plain = load_weights(golden_path("zoo/resnet18_random.h5"));
  CHECK(plain.graph_json.empty());
  CHECK_THROWS_WITH_AS(graph_from_description(plain), doctest::Contains("has no graph description"), InputError);
}

TEST_CASE("graph json: Model::load builds a described file's model from its description, not from arch") {
  const TempDir dir("graph_json_model");
  const std::string path = python_case(dir, "every-op-h5");
  const Model model = Model::load(path);
  // The description read directly, BatchNorm folded as a Model does.
  const Graph want = fold_batchnorms(graph_from_description(load_weights(path)));
  const Weights meta = load_weights(path);
  const Tensor x = random_tensor({2, 3, meta.input_size, meta.input_size}, 21);
  const Mask m = random_mask(2, meta.input_size, meta.input_size, 0.6, 22);
  CHECK(max_abs_diff(model.forward(x), run_graph(want, x)) <= 1e-5f);
  CHECK(max_abs_diff(model.forward_masked(x, m), run_graph_masked(want, x, m, {}).x) <= 1e-5f);
  CHECK(model.num_classes() == infer_shapes(want, x.shape())[want.output].c);
}
