// test_golden_zoo.cpp — the paper's other CNNs (SqueezeNet 1.1, DenseNet-121,
// MobileNetV3-Large, EfficientNet-B0, ResNet-18) against the authors' PyTorch
// outputs in shared/golden/zoo (its README; the semantics:
// shared/spec/LAYER_MASKING_ZOO.md), on every built backend: clean, layer
// masking in both executions, greyout and blackout (and renorm for DenseNet
// and ResNet-18), on the 3 golden images x 6 mask kinds, the non-square
// input whose ceil-mode windows hang over, the two extra kinds that keep a
// small region visible, and the masks (exactly) and channel means after
// every stage.
//
// Tolerance (the golden README): max|diff| <= 1e-3 * max(1, std of the
// expected row), per image and mask kind.
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "arena_forward.h"
#include "golden.h"
#include "lmask/graph_passes.h"
#include "lmask/backend.h"
#include "lmask/graph_forward.h"
#include "lmask/masking.h"
#include "lmask/model.h"
#include "lmask/weights.h"
#include "zoo_rows.h"

using namespace lmask;
using lmask::testing::check_rows;
using lmask::testing::golden_cases;
using lmask::testing::golden_mask_kinds;
using lmask::testing::golden_masks;
using lmask::testing::golden_path;
using lmask::testing::masks_of_kind;
using lmask::testing::read_tensor;

namespace {

const Hdf5File& zoo_cases() {
  static const Hdf5File f(golden_path("zoo/zoo_cases.h5"));
  return f;
}

// One model per architecture and backend, loaded once per test binary.
const Model& zoo_model(const std::string& arch, const std::string& backend) {
  static std::map<std::string, Model> models;
  const std::string key = arch + "/" + backend;
  auto it = models.find(key);
  if (it == models.end())
    it = models.emplace(key, Model::load(golden_path("zoo/" + arch + "_random.h5"), {backend})).first;
  return it->second;
}

// expected/<arch>/<mode> rows of one kind: [3,K,1000] -> [3,1000,1,1].
Tensor expected_kind(const std::string& dataset, int kind) {
  return lmask::testing::expected_of_kind(zoo_cases(), dataset, kind);
}

const Tensor& input() {
  static const Tensor t = read_tensor(golden_cases(), "input");
  return t;
}
const Tensor& input01() {
  static const Tensor t = read_tensor(golden_cases(), "input_01");
  return t;
}
Mask extra_masks(int kind) {
  static const Tensor all = read_tensor(zoo_cases(), "extra/mask");  // [3,2,224,224]
  return masks_of_kind(all, kind);
}
const char* const kExtraKinds[] = {"corner16", "strip56"};

bool has_dataset(const std::string& name) { return zoo_cases().has(name); }

// The modes the golden file holds for `arch`, with how lmask computes each.
struct Mode {
  std::string name;
  std::function<Tensor(const Model&, const Mask&)> logits;
};
std::vector<Mode> modes_of(const std::string& arch) {
  std::vector<Mode> modes;
  for (Execution e : {Execution::active, Execution::dense})
    modes.push_back({std::string("layer ") + (e == Execution::active ? "active" : "dense"),
                     [e](const Model& m, const Mask& mask) {
                       return m.forward_masked(input(), mask, {Fill::neighbour_average, e});
                     }});
  if (has_dataset("expected/" + arch + "/renorm"))
    modes.push_back({"renorm", [](const Model& m, const Mask& mask) {
                       return m.forward_masked(input(), mask, {Fill::renorm, Execution::active});
                     }});
  for (const char* method : {"grey", "black"})
    modes.push_back({std::string(method) + "out", [method](const Model& m, const Mask& mask) {
                       return make_masking_method(method)->logits(m, input01(), mask);
                     }});
  return modes;
}
std::string dataset_of(const std::string& mode) { return mode.substr(0, mode.find(' ')); }

// Clean, and every mode on the 6 standard kinds and the 2 extra ones.
void check_masked_modes(const std::string& arch) {
  for (const std::string& backend : available_backends()) {
    const Model& model = zoo_model(arch, backend);
    {
      INFO(arch << " on " << backend);
      check_rows(model.forward(input()), read_tensor(zoo_cases(), "expected/" + arch + "/clean"),
                 arch + " clean on " + backend);
    }
    std::string report;
    for (const Mode& mode : modes_of(arch)) {
      const std::string base = "expected/" + arch + "/";
      float worst = 0.f;
      for (int kind = 0; kind < 6; ++kind) {
        const std::string what = arch + " " + mode.name + " " + golden_mask_kinds()[kind] + " on " + backend;
        worst = std::max(worst, check_rows(mode.logits(model, golden_masks(golden_cases(), kind)),
                                           expected_kind(base + dataset_of(mode.name), kind), what));
      }
      for (int kind = 0; kind < 2; ++kind) {
        const std::string what = arch + " " + mode.name + " " + kExtraKinds[kind] + " on " + backend;
        worst = std::max(worst, check_rows(mode.logits(model, extra_masks(kind)),
                                           expected_kind(base + "extra/" + dataset_of(mode.name), kind), what));
      }
      report += ", " + mode.name + " " + std::to_string(worst);
    }
    MESSAGE(arch << " on " << backend << ", worst |diff|/tolerance over 8 kinds" << report);
  }
}

// The non-square input (226 x 250: SqueezeNet's ceil-mode windows hang over).
void check_nonsquare(const std::string& arch) {
  const Tensor x = read_tensor(zoo_cases(), "nonsquare/input");
  const Mask m(read_tensor(zoo_cases(), "nonsquare/mask"));
  for (const std::string& backend : available_backends()) {
    const Model& model = zoo_model(arch, backend);
    check_rows(model.forward(x), read_tensor(zoo_cases(), "expected/" + arch + "/nonsquare_clean"),
               arch + " nonsquare clean on " + backend);
    for (Execution e : {Execution::active, Execution::dense})
      check_rows(model.forward_masked(x, m, {Fill::neighbour_average, e}),
                 read_tensor(zoo_cases(), "expected/" + arch + "/nonsquare_layer"),
                 arch + " nonsquare layer on " + backend);
  }
}

// After every stage (the graph's stages, named like the file's
// "NN_<name>"): the mask exactly, and mean_hw(v * m) per channel.
void check_stages(const std::string& arch) {
  const std::string base = "expected/" + arch + "/stages_patch30";
  std::map<std::string, std::string> datasets;  // graph stage name -> the file's group
  static const std::vector<std::string> names = zoo_cases().dataset_names();
  for (const std::string& name : names) {
    const std::string suffix = "/mask";
    if (name.rfind(base + "/", 0) != 0 || name.size() < suffix.size() ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    const std::string group = name.substr(base.size() + 1, name.size() - base.size() - 1 - suffix.size());
    const std::size_t cut = group.find('_');
    const bool numbered = cut != std::string::npos && cut == 2 && std::isdigit(group[0]) && std::isdigit(group[1]);
    datasets[numbered ? group.substr(cut + 1) : group] = base + "/" + group;
  }
  const Graph& g = zoo_model(arch, "native").graph();
  std::map<int, std::string> stage_at;
  for (const auto& [name, id] : g.stages) stage_at[id] = name;
  int seen = 0;
  for (Execution e : {Execution::active, Execution::dense}) {
    run_graph_masked(g, input(), golden_masks(golden_cases(), 0), {Fill::neighbour_average, e}, g.output,
                     [&](int node, const Act& a) {
                       const auto it = stage_at.find(node);
                       if (it == stage_at.end()) return;
                       const std::string& stage = it->second;
                       INFO(arch << " stage " << stage << " (" << (e == Execution::active ? "active" : "dense") << ")");
                       REQUIRE_MESSAGE(datasets.count(stage), "the golden file has no stage " << stage);
                       const Tensor mask = read_tensor(zoo_cases(), datasets[stage] + "/mask");
                       CHECK(max_abs_diff(a.m.tensor(), mask) == 0.f);
                       Tensor mean({a.x.n(), a.x.c(), 1, 1});
                       for (int n = 0; n < a.x.n(); ++n)
                         for (int c = 0; c < a.x.c(); ++c) {
                           double s = 0.0;
                           const float* v = a.x.data() + (std::size_t(n) * a.x.c() + c) * a.x.h() * a.x.w();
                           const float* m = a.m.tensor().image(n);
                           for (int i = 0; i < a.x.h() * a.x.w(); ++i) s += double(v[i]) * m[i];
                           mean.at(n, c, 0, 0) = float(s / (a.x.h() * a.x.w()));
                         }
                       check_rows(mean, read_tensor(zoo_cases(), datasets[stage] + "/chan_mean"), "chan_mean");
                       ++seen;
                     });
  }
  CHECK(seen == 2 * static_cast<int>(datasets.size()));
}

// The embedded forward (embedded.h: the arena, masked convs dense) on the
// graph as the native forwards run it: clean, and layer masking with the
// neighbour fill (and renorm where the file has it) on the 6 + 2 kinds.
void check_embedded(const std::string& arch) {
  const Graph g = fuse_epilogues(zoo_model(arch, "native").graph());
  const std::string base = "expected/" + arch + "/";
  float worst = check_rows(lmask::testing::arena_forward(g, input(), nullptr), read_tensor(zoo_cases(), base + "clean"),
                           arch + " clean, embedded");
  std::vector<std::pair<std::string, Fill>> fills{{"layer", Fill::neighbour_average}};
  if (has_dataset(base + "renorm")) fills.emplace_back("renorm", Fill::renorm);
  for (const auto& [mode, fill] : fills) {
    for (int kind = 0; kind < 6; ++kind) {
      const Mask m = golden_masks(golden_cases(), kind);
      worst = std::max(worst, check_rows(lmask::testing::arena_forward(g, input(), &m, fill),
                                         expected_kind(base + mode, kind),
                                         arch + " " + mode + " " + golden_mask_kinds()[kind] + ", embedded"));
    }
    for (int kind = 0; kind < 2; ++kind) {
      const Mask m = extra_masks(kind);
      worst = std::max(worst, check_rows(lmask::testing::arena_forward(g, input(), &m, fill),
                                         expected_kind(base + "extra/" + mode, kind),
                                         arch + " " + mode + " " + kExtraKinds[kind] + ", embedded"));
    }
  }
  MESSAGE(arch << " embedded: worst |diff|/tolerance " << worst);
}

// What the spec says an all-removed mask gives each head
// (LAYER_MASKING_ZOO.md, "Per architecture"), from the file's own tensors.
Tensor all_removed_logits(const std::string& arch, int images) {
  const Weights w = load_weights(golden_path("zoo/" + arch + "_random.h5"));
  std::vector<float> logits;
  if (arch == "squeezenet1_1") {
    logits.assign(1000, 0.f);  // exactly 0: relu(b) lies outside the mask, and allmean multiplies by m = 0
  } else if (arch == "mobilenet_v3_large") {  // W2 . hardswish(b1) + b2
    const Tensor& b1 = w.params.at("classifier.0.bias");
    const Tensor& w2 = w.params.at("classifier.3.weight");
    const Tensor& b2 = w.params.at("classifier.3.bias");
    for (int o = 0; o < w2.n(); ++o) {
      double s = b2.data()[o];
      for (int i = 0; i < w2.c(); ++i) {
        const double v = b1.data()[i];
        s += double(w2.data()[std::size_t(o) * w2.c() + i]) * (v * std::clamp(v + 3.0, 0.0, 6.0) / 6.0);
      }
      logits.push_back(float(s));
    }
  } else {  // the classifier's bias: the pooled features are 0
    const std::string bias = arch == "resnet18" ? "fc.bias" : arch == "efficientnet_b0" ? "classifier.1.bias"
                                                                                         : "classifier.bias";
    const Tensor& b = w.params.at(bias);
    logits.assign(b.data(), b.data() + b.numel());
  }
  Tensor t({images, static_cast<int>(logits.size()), 1, 1});
  for (int n = 0; n < images; ++n) std::copy(logits.begin(), logits.end(), t.image(n));
  return t;
}

// All-visible = clean; all-removed = the head's rule, in both executions,
// on every backend.
void check_mask_ends(const std::string& arch) {
  const Tensor removed = all_removed_logits(arch, input().n());
  for (const std::string& backend : available_backends()) {
    const Model& model = zoo_model(arch, backend);
    const Tensor clean = model.forward(input());
    for (Execution e : {Execution::active, Execution::dense}) {
      const std::string what = arch + " on " + backend + (e == Execution::active ? " active" : " dense");
      const Tensor visible = model.forward_masked(input(), Mask::visible(input().n(), input().h(), input().w()),
                                                  {Fill::neighbour_average, e});
      check_rows(visible, clean, what + ", all visible against clean");
      const Tensor none = model.forward_masked(input(), Mask::removed(input().n(), input().h(), input().w()),
                                               {Fill::neighbour_average, e});
      if (arch == "squeezenet1_1") {
        INFO(what << ": all removed, max |logit| " << max_abs(none));
        CHECK(max_abs(none) == 0.f);
      } else {
        check_rows(none, removed, what + ", all removed against the head's rule");
      }
    }
  }
}

}  // namespace

#define ZOO_GOLDEN_CASES(arch)                                                            \
  TEST_CASE("golden zoo: " arch " clean and every mode on every kind, every backend") {   \
    check_masked_modes(arch);                                                             \
  }                                                                                       \
  TEST_CASE("golden zoo: " arch " non-square input, clean and layer, every backend") {    \
    check_nonsquare(arch);                                                                \
  }                                                                                       \
  TEST_CASE("golden zoo: " arch " masks and channel means after every stage (patch30)") { \
    check_stages(arch);                                                                   \
  }                                                                                       \
  TEST_CASE("golden zoo: " arch " all visible is clean, all removed is the head's rule") { \
    check_mask_ends(arch);                                                                \
  }                                                                                       \
  TEST_CASE("golden zoo: " arch " on the embedded forward, clean and layer-masked") {      \
    check_embedded(arch);                                                                 \
  }

ZOO_GOLDEN_CASES("resnet18")
ZOO_GOLDEN_CASES("squeezenet1_1")
ZOO_GOLDEN_CASES("densenet121")
ZOO_GOLDEN_CASES("mobilenet_v3_large")
ZOO_GOLDEN_CASES("efficientnet_b0")
