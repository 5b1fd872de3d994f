// test_onnx.cpp — tools/convert_onnx.py on models torch.onnx.export wrote,
// and on files it must refuse.
//
// Round trip: tests/onnx_torch_case.py exports a seeded torchvision model
// (or its own "patterns" module, every fusion the converter makes) and
// writes PyTorch's logits; the converter's command line turns the ONNX file
// into a weight file; lmask's clean logits on every configured backend
// (backend_columns.h) must equal PyTorch's within 1e-3 * max(1, std of the
// logits). Refusals: the command line's exit status, its one line naming
// the file, node and op, and no output left behind.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "backend_columns.h"
#include "golden.h"
#include "lmask/hdf5_file.h"
#include "lmask/mask.h"
#include "lmask/model.h"
#include "temp_dir.h"

using namespace lmask;
using namespace lmask::testing;

namespace {

struct Run {
  int status = -1;
  std::string out, err;
};

// `/usr/bin/python3 SCRIPT ARGS` (SCRIPT relative to the source tree), its
// exit status and what it printed.
Run python(const TempDir& dir, const std::string& script, const std::string& args) {
  const std::string out = dir.file("python.stdout"), err = dir.file("python.stderr");
  const std::string cmd = std::string(LMASK_PYTHON) + " " + LMASK_SOURCE_DIR + "/" + script + " " + args + " >" +
                          out + " 2>" + err;
  const int raw = std::system(cmd.c_str());
  Run r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  return r;
}

float standard_deviation(const Tensor& t) {
  double sum = 0, squares = 0;
  const std::size_t n = t.numel();
  for (std::size_t i = 0; i < n; ++i) sum += t.data()[i];
  const double mean = sum / double(n);
  for (std::size_t i = 0; i < n; ++i) squares += (t.data()[i] - mean) * (t.data()[i] - mean);
  return float(std::sqrt(squares / double(n)));
}

// Exports `arch`, converts it with the command line, compares lmask's
// logits with PyTorch's on every backend. Returns the converted model
// (native) for the caller's further checks.
Model round_trip(const TempDir& dir, const std::string& arch) {
  const std::string onnx = dir.file("model.onnx"), weights = dir.file("model.h5");
  const Run exported = python(dir, "tests/onnx_torch_case.py", arch + " " + dir.path.string());
  INFO("onnx_torch_case.py: " << exported.err);
  REQUIRE(exported.status == 0);
  const Run converted = python(dir, "tools/convert_onnx.py", onnx + " --out " + weights);
  INFO("convert_onnx.py: " << converted.err);
  REQUIRE(converted.status == 0);
  MESSAGE(arch << ": " << converted.out.substr(0, converted.out.find('\n')));

  const Hdf5File ref(dir.file("ref.h5"));
  const Tensor x = read_tensor(ref, "input"), want = read_tensor(ref, "logits");
  const float tolerance = 1e-3f * std::max(1.f, standard_deviation(want));
  for (const std::string& backend : backend_columns()) {
    CAPTURE(backend);
    const Model model = Model::load(weights, ModelOptions{backend});
    const Tensor logits = model.forward(x);
    REQUIRE(logits.shape() == want.shape());
    const float diff = max_abs_diff(logits, want);
    MESSAGE(arch << " on " << backend << ": max |lmask - PyTorch| = " << diff << " (tolerance " << tolerance
                 << ", logits' std " << standard_deviation(want) << ")");
    CHECK(diff <= tolerance);
  }
  return Model::load(weights);
}

// A torchvision classifier: its head is found (features, then classify),
// and layer masking with nothing removed is the clean forward (the spec's
// identity), since a converted model gets lmask's mask rules for its ops.
void check_classifier(const Model& model, const TempDir& dir) {
  const Hdf5File ref(dir.file("ref.h5"));
  const Tensor x = read_tensor(ref, "input"), clean = model.forward(x);
  REQUIRE(model.feature_channels() > 0);
  CHECK(max_abs_diff(model.classify(model.features(x)), clean) <= 1e-5f * std::max(1.f, max_abs(clean)));
  Tensor visible({x.n(), 1, x.h(), x.w()});
  std::fill(visible.data(), visible.data() + visible.numel(), 1.f);
  CHECK(max_abs_diff(model.forward_masked(x, Mask(visible)), clean) <= 1e-4f * std::max(1.f, max_abs(clean)));
}

}  // namespace

TEST_CASE("onnx: torchvision resnet18 exported by torch.onnx.export converts and matches PyTorch's logits") {
  TempDir dir("onnx_resnet18");
  check_classifier(round_trip(dir, "resnet18"), dir);
}

TEST_CASE("onnx: torchvision squeezenet1_1 (Concat, ceil-mode MaxPool, no Linear) matches PyTorch") {
  TempDir dir("onnx_squeezenet");
  check_classifier(round_trip(dir, "squeezenet1_1"), dir);
}

TEST_CASE("onnx: torchvision densenet121 (BatchNormalization after Concat, zero Pad + AveragePool) matches PyTorch") {
  TempDir dir("onnx_densenet");
  check_classifier(round_trip(dir, "densenet121"), dir);
}

TEST_CASE("onnx: torchvision mobilenet_v3_large (HardSwish, HardSigmoid squeeze-excitation) matches PyTorch") {
  TempDir dir("onnx_mobilenet");
  check_classifier(round_trip(dir, "mobilenet_v3_large"), dir);
}

TEST_CASE("onnx: torchvision efficientnet_b0 (SiLU as x * Sigmoid(x), Sigmoid squeeze-excitation) matches PyTorch") {
  TempDir dir("onnx_efficientnet");
  check_classifier(round_trip(dir, "efficientnet_b0"), dir);
}

TEST_CASE("onnx: every fusion the converter makes (bias Add, Clip, x * HardSigmoid(x), ReduceMean, Reshape, "
          "MatMul + Add, BatchNorm on features) matches PyTorch") {
  TempDir dir("onnx_patterns");
  round_trip(dir, "patterns");
}

TEST_CASE("onnx: the converter refuses in one line naming the file, node and op, exits 1 and writes nothing") {
  TempDir dir("onnx_refusals");
  REQUIRE(python(dir, "tests/onnx_refusal_case.py", dir.path.string()).status == 0);
  struct Case {
    const char* file;
    std::string want;  // the line after "convert_onnx.py: error: FILE: "
  };
  const Case cases[] = {
      {"resize.onnx", "node 1 'Resize_3' (Resize): lmask has no Resize"},
      {"escaped.onnx", "node 0 'bad\\nname\\x1b' (Softmax): lmask has no Softmax"},  // control characters escaped
      {"garbage.onnx", "not an ONNX model ("},
      {"missing.onnx", "no such file"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.file);
    const std::string model = dir.file(c.file), out = dir.file("out.h5");
    const Run r = python(dir, "tools/convert_onnx.py", model + " --out " + out);
    CAPTURE(r.err);
    CHECK(r.status == 1);
    CHECK(r.out.empty());
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.err.rfind("convert_onnx.py: error: " + model + ": " + c.want, 0) == 0);
    CHECK(r.err.find("Traceback") == std::string::npos);
    for (const auto& entry : std::filesystem::directory_iterator(dir.path))  // no output, no temporary file
      CHECK(entry.path().extension() != ".h5");
    CHECK(std::count_if(std::filesystem::directory_iterator(dir.path), std::filesystem::directory_iterator(),
                        [](const auto& e) { return e.path().filename().string().find(".tmp-") != std::string::npos; }) == 0);
  }
}
