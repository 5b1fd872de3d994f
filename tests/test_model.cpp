// test_model.cpp — Model: loading (.h5 and .lmw alike, bad files in one
// line), its forwards as the graph forwards of its graph, its head, its
// conv work, a graph from another builder, and a backend that takes the
// weights over.
#include <doctest/doctest.h>

#include <fstream>
#include <stdexcept>

#include "error_of.h"
#include "golden.h"
#include "lmask/backend.h"
#include "lmask/graph_forward.h"
#include "lmask/lmw.h"
#include "lmask/mask_builders.h"
#include "lmask/model.h"
#include "lmask/resnet.h"
#include "reference_ops.h"
#include "temp_dir.h"

using namespace lmask;
using lmask::testing::error_of;
using lmask::testing::golden_model;
using lmask::testing::golden_path;
using lmask::testing::random_mask;
using lmask::testing::random_tensor;
using lmask::testing::TempDir;

namespace {

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  REQUIRE(out.good());
}

// The golden weights as a .lmw file in `dir`, with `edit` applied first.
std::string golden_lmw(const TempDir& dir, const std::string& name, void (*edit)(Weights&) = nullptr) {
  Weights w = load_weights(golden_path("resnet50_random.h5"));
  if (edit) edit(w);
  const std::string path = dir.file(name);
  write_file(path, write_lmw(w, LmwDType::f32));
  return path;
}

// The one-line message of a bad file: it names the file and says what is wrong.
void check_one_line_naming(const std::string& message, const std::string& path, const std::string& problem) {
  CAPTURE(message);
  CHECK(message.rfind(path + ": ", 0) == 0);
  CHECK(message.find(problem) != std::string::npos);
  CHECK(message.find('\n') == std::string::npos);
}

// x [N,2,H,W] -> conv 3x3 2->4, relu -> global pool [N,4,1,1] -> linear 4->3:
// a graph no ResNet builder made, with its features marked.
Graph tiny_graph() {
  Graph g;
  g.in_channels = 2;
  Node conv{Op::conv2d, {0}, "conv"};
  conv.conv.in_channels = 2, conv.conv.out_channels = 4, conv.conv.kernel = 3, conv.conv.padding = 1;
  conv.weight = random_tensor({4, 2, 3, 3}, 11);
  conv.bias = random_tensor({1, 4, 1, 1}, 12);
  const int c = g.add(conv);
  Node relu{Op::activation, {c}, "relu"};
  const int r = g.add(relu);
  g.features = g.add({Op::global_avgpool, {r}, "pool"});
  Node fc{Op::linear, {g.features}, "fc"};
  fc.weight = random_tensor({3, 4, 1, 1}, 13);
  fc.bias = random_tensor({1, 3, 1, 1}, 14);
  g.output = g.add(fc);
  return g;
}

Weights tiny_meta() {
  Weights meta;
  meta.path = "tiny";
  meta.arch = "tiny";
  meta.num_classes = 3;
  meta.input_size = 9;
  return meta;
}

}  // namespace

TEST_CASE("model: an .h5 file and its .lmw export load to the same logits, clean and masked") {
  const TempDir dir("model_lmw");
  const Model h5 = Model::load(golden_path("resnet50_random.h5"));
  const Model lmw = Model::load(golden_lmw(dir, "golden.lmw"));
  CHECK(lmw.meta().arch == h5.meta().arch);
  CHECK(lmw.meta().input_size == h5.meta().input_size);
  CHECK(lmw.num_classes() == 1000);
  CHECK(lmw.feature_channels() == 2048);
  CHECK(lmw.meta().params.empty());  // metadata only: the weights live in the graph
  const Tensor x = random_tensor({2, 3, 64, 48}, 21);
  const Mask m = random_mask(2, 64, 48, 0.6, 22);
  CHECK(max_abs_diff(lmw.forward(x), h5.forward(x)) == 0.f);
  CHECK(max_abs_diff(lmw.forward_masked(x, m), h5.forward_masked(x, m)) == 0.f);
}

TEST_CASE("model: its forwards are the graph forwards of its graph, the head after the features the fc layer") {
  const Model& model = golden_model();
  const Graph& g = model.graph();
  const Tensor x = random_tensor({2, 3, 64, 48}, 31);
  const Mask m = random_mask(2, 64, 48, 0.5, 32);
  const Tensor logits = model.forward(x);
  CHECK(max_abs_diff(logits, run_graph(g, x)) == 0.f);
  const Tensor f = model.features(x);
  CHECK(max_abs_diff(f, run_graph(g, x, g.features)) == 0.f);
  CHECK(max_abs_diff(model.classify(f), logits) == 0.f);
  for (const LayerMaskingOptions& opt : {LayerMaskingOptions{}, LayerMaskingOptions{Fill::renorm, Execution::dense}}) {
    const Tensor masked = model.forward_masked(x, m, opt);
    CHECK(max_abs_diff(masked, run_graph_masked(g, x, m, opt).x) == 0.f);
    CHECK(max_abs_diff(model.classify(model.features_masked(x, m, opt)), masked) == 0.f);
  }
  // The graph is what runs: BatchNorm folded, residual adds and ReLUs fused.
  int fused = 0;
  for (const Node& node : g.nodes) {
    CHECK(node.op != Op::batchnorm);
    fused += node.has_residual();
  }
  CHECK(fused == 16);  // one per bottleneck of ResNet-50
  REQUIRE(model.head().size() == 2);  // the features, then fc
  CHECK(model.head().nodes[1].op == Op::linear);
  CHECK(model.head().in_channels == 2048);
  CHECK(model.backend_name() == "native");
}

TEST_CASE("model: conv_work counts the graph's convs as ResNet::conv_work did") {
  // Literals of ResNet::conv_work (test_conv_work.cpp: 224 px, 16 px patches, half removed, seeds 7 and 8).
  const Mask m =
      stack_masks({random_patch_mask(224, 224, 16, 0.5, 7), random_patch_mask(224, 224, 16, 0.5, 8)});
  const ConvWork w = golden_model().conv_work(m);
  CHECK(w.dense_macs == 8174272512.0);
  CHECK(w.visible_macs == 7563466944.0);
}

TEST_CASE("model: a bad weight file is one line naming it") {
  const TempDir dir("model_bad");
  SUBCASE("missing") {
    const std::string path = dir.file("missing.h5");
    check_one_line_naming(error_of([&] { Model::load(path); }), path, "no such file");
  }
  SUBCASE("not HDF5 nor .lmw") {
    const std::string path = dir.file("text.h5");
    write_file(path, "these are not weights\n");
    check_one_line_naming(error_of([&] { Model::load(path); }), path, "not an HDF5 file");
  }
  SUBCASE("a directory") {
    check_one_line_naming(error_of([&] { Model::load(dir.path.string()); }), dir.path.string(),
                          "not a regular file");
  }
  SUBCASE("a .lmw cut short") {
    const std::string whole = golden_lmw(dir, "whole.lmw"), path = dir.file("short.lmw");
    write_file(path, lmask::testing::slurp(whole).substr(0, 1000));
    check_one_line_naming(error_of([&] { Model::load(path); }), path, "");
  }
  SUBCASE("an arch no builder knows") {
    const std::string path = golden_lmw(dir, "arch.lmw", [](Weights& w) { w.arch = "resnet19"; });
    check_one_line_naming(error_of([&] { Model::load(path); }), path, "resnet19");
  }
}

TEST_CASE("model: a graph from another builder: its head, classes and features, run natively") {
  const Model model(tiny_graph(), tiny_meta());
  CHECK(model.num_classes() == 3);
  CHECK(model.feature_channels() == 4);
  const Tensor x = random_tensor({2, 2, 9, 7}, 41);
  const Mask m = random_mask(2, 9, 7, 0.5, 42);
  CHECK(max_abs_diff(model.classify(model.features(x)), model.forward(x)) == 0.f);
  CHECK(max_abs_diff(model.forward(x), run_graph(tiny_graph(), x)) <= 1e-6f);
  CHECK(max_abs_diff(model.classify(model.features_masked(x, m)), model.forward_masked(x, m)) == 0.f);
  CHECK(model.conv_work(Mask::visible(1, 9, 7)).dense_macs == 9 * 7 * 4 * 2 * 9);

  SUBCASE("a head that reads from before the features is refused, naming the node") {
    Graph g = tiny_graph();
    Node& second_pool = g.nodes[g.output];  // fc's place: a second pool of the relu's map, before the features
    second_pool = Node{Op::global_avgpool, {2}, "pool2"};
    g.output = g.add({Op::add, {g.features, g.output}, "sum"});
    const std::string message = error_of([&] { Model(g, tiny_meta()); });
    CHECK(message.rfind("tiny: graph node 4 (add 'sum')", 0) == 0);
  }
  SUBCASE("a graph that cannot take its own input size is refused, naming the node") {
    Graph g = tiny_graph();
    g.nodes[1].conv.padding = 0;
    Weights meta = tiny_meta();
    meta.input_size = 2;  // smaller than the 3x3 window
    CHECK(error_of([&] { Model(g, meta); }).rfind("tiny: graph node 1 (conv2d 'conv')", 0) == 0);
  }
  SUBCASE("without features there is no head") {
    Graph g = tiny_graph();
    g.features = -1;
    const Model bare(g, tiny_meta());
    CHECK(bare.feature_channels() == 0);
    CHECK(bare.num_classes() == 3);
    CHECK_THROWS_AS(bare.classify(Tensor({1, 4, 1, 1})), std::logic_error);
    CHECK_THROWS_AS(bare.features(x), std::logic_error);
  }
}

TEST_CASE("model: BatchNorm kept apart by the builder is folded into the graph that runs") {
  const ResNet unfolded = ResNet::load(golden_path("resnet50_random.h5"), LoadOptions{/*fold_bn=*/false});
  const Model model(unfolded.graph(), unfolded.meta());
  for (const Node& node : model.graph().nodes) CHECK(node.op != Op::batchnorm);
  const Tensor x = random_tensor({1, 3, 64, 48}, 51);
  CHECK(max_abs_diff(model.forward(x), golden_model().forward(x)) <= 1e-4f * std::max(1.f, max_abs(model.forward(x))));
}

TEST_CASE("model: on a backend, and one holding the weights takes them over once") {
  const Tensor x = random_tensor({2, 3, 64, 48}, 61);
  const Mask m = random_mask(2, 64, 48, 0.6, 62);
  const Tensor clean = golden_model().forward(x), masked = golden_model().forward_masked(x, m);
  for (const std::string& name : available_backends()) {
    CAPTURE(name);
    Model model = Model::load(golden_path("resnet50_random.h5"), {name});
    CHECK(model.backend_name() == name);
    CHECK(max_abs_diff(model.forward(x), clean) <= 1e-3f);
    CHECK(max_abs_diff(model.forward_masked(x, m), masked) <= 1e-3f);
    CHECK(max_abs_diff(model.classify(model.features(x)), clean) <= 1e-3f);
    bool any_conv_weight = false;
    for (const Node& node : model.graph().nodes) any_conv_weight |= node.op == Op::conv2d && !node.weight.empty();
    if (!make_backend(name, tiny_graph())->holds_weights()) {
      CHECK(any_conv_weight);
      model.use_backend("");  // back to native
      CHECK(max_abs_diff(model.forward(x), clean) == 0.f);
      continue;
    }
    CHECK_FALSE(any_conv_weight);  // the backend's copy is the only one
    CHECK(model.conv_work(m).dense_macs > 0);  // shapes stay
    CHECK_THROWS_AS(model.use_backend("native"), std::logic_error);
  }
}
