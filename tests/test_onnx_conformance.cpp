// test_onnx_conformance.cpp — ONNX's own operator test cases (Debian's
// libonnx-testdata) through tools/convert_onnx.py and lmask's clean forward.
//
// tests/onnx_conformance_cases.py converts every case whose nodes are all
// ops lmask maps (Conv, BatchNormalization, Relu, HardSigmoid, HardSwish,
// Sigmoid, MaxPool, AveragePool, GlobalAveragePool, Concat, Add, Mul, Gemm,
// Flatten) and writes a manifest. Here each converted case is loaded with
// Model::load on every backend this build configured (backend_columns.h)
// and its output compared with the case's output_0.pb; each refused case
// must be one of onnx_expected_refusals.h, refused for the reason listed,
// in one line naming the file.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "backend_columns.h"
#include "golden.h"
#include "lmask/backend.h"
#include "lmask/hdf5_file.h"
#include "lmask/model.h"
#include "onnx_expected_refusals.h"
#include "skip_test.h"
#include "temp_dir.h"

using namespace lmask;
using namespace lmask::testing;

namespace {

// Where Debian's libonnx-testdata puts ONNX's test cases; LMASK_ONNX_TESTDATA overrides.
std::string onnx_testdata() {
  const char* env = std::getenv("LMASK_ONNX_TESTDATA");
  return env ? env : "/usr/share/libonnx-testdata/data";
}

struct ManifestLine {
  std::string kind, id, first, second;  // converted: model and io files; refused: the message
};

std::vector<ManifestLine> read_manifest(const std::string& path) {
  std::vector<ManifestLine> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    std::stringstream fields(line);
    ManifestLine m;
    std::getline(fields, m.kind, '\t');
    std::getline(fields, m.id, '\t');
    std::getline(fields, m.first, '\t');
    std::getline(fields, m.second, '\t');
    lines.push_back(m);
  }
  return lines;
}

// Max |lmask - ONNX| over the tolerance 1e-4 * max(1, max |expected|), on
// one backend: <= 1 passes. Unsupported (the backend cannot run a node) is
// reported by the caller, not a failure, as in the op table.
double error_ratio(const std::string& model_file, const std::string& backend, const Tensor& x, const Tensor& want) {
  const Model model = Model::load(model_file, ModelOptions{backend});
  const Tensor y = model.forward(x);
  if (y.shape() != want.shape()) {
    FAIL_CHECK("lmask gives " << y.shape().str() << ", ONNX " << want.shape().str());
    return 0;
  }
  return max_abs_diff(y, want) / (1e-4 * std::max(1.f, max_abs(want)));
}

}  // namespace

TEST_CASE("onnx: libonnx-testdata's cases of lmask's ops convert and match ONNX on every backend, or are refused in "
          "one line as listed") {
  const std::string root = onnx_testdata();
  if (!std::filesystem::is_directory(root + "/node"))
    return skip_test("no ONNX test cases at " + root + " (Debian's libonnx-testdata; tools/install-deps.sh installs it)");
  TempDir dir("onnx_cases");
  const std::string cmd = std::string(LMASK_PYTHON) + " " + LMASK_SOURCE_DIR + "/tests/onnx_conformance_cases.py " +
                          root + " " + dir.path.string();
  INFO("command: " << cmd);
  REQUIRE(std::system(cmd.c_str()) == 0);
  const std::vector<ManifestLine> lines = read_manifest(dir.file("manifest.tsv"));
  const std::vector<std::string> columns = backend_columns();
  REQUIRE(!columns.empty());

  std::map<std::string, std::string> expected_refusal;
  for (const ExpectedRefusal& r : kExpectedRefusals) expected_refusal[r.id] = r.why;
  std::string ran, refused, unsupported;
  int converted = 0, refusals = 0;
  for (const ManifestLine& m : lines) {
    CAPTURE(m.id);
    const auto listed = expected_refusal.find(m.id);
    if (m.kind == "converted") {
      ++converted;
      ran += "\n  " + m.id;
      if (listed != expected_refusal.end()) FAIL_CHECK("converted, but listed as refused: " << listed->second);
      const Hdf5File io(m.second);
      const Tensor x = read_tensor(io, "input"), want = read_tensor(io, "expected");
      for (const std::string& backend : columns) {
        CAPTURE(backend);
        try {
          const double ratio = error_ratio(m.first, backend, x, want);
          CHECK(ratio <= 1.0);
        } catch (const Unsupported& e) {
          unsupported += "\n  " + m.id + " on " + backend + ": " + e.what();
        } catch (const std::exception& e) {  // the converter wrote a file lmask refuses
          FAIL_CHECK("lmask cannot run the converted file: " << e.what());
        }
      }
    } else if (m.kind == "refused") {
      ++refusals;
      refused += "\n  " + m.id + ": " + m.first;
      std::string stem = m.id;
      std::replace(stem.begin(), stem.end(), '/', '.');
      const std::string model_file = dir.file(stem + ".onnx");
      CHECK(m.first.rfind("convert_onnx.py: error: " + model_file + ": ", 0) == 0);  // names the file
      if (listed == expected_refusal.end()) {
        FAIL_CHECK("refused, but lmask's graph should express it: " << m.first);
      } else {
        CHECK_MESSAGE(m.first.find(listed->second) != std::string::npos, "refused for another reason than '"
                                                                               << listed->second << "': " << m.first);
      }
    } else {
      FAIL_CHECK(m.kind << ": " << m.first);  // "broken": not one line, or an output left behind
    }
    if (listed != expected_refusal.end()) expected_refusal.erase(listed);
  }
  for (const auto& [id, why] : expected_refusal) FAIL_CHECK("listed as refused, but not among the cases: " << id);
  MESSAGE("ONNX cases converted and run on " << columns.size() << " backend(s): " << converted << ran);
  MESSAGE("ONNX cases refused, each in one line: " << refusals << refused);
  if (!unsupported.empty()) MESSAGE("converted, but a backend cannot run them (Unsupported):" << unsupported);
  CHECK(converted + refusals == static_cast<int>(lines.size()));
  CHECK(converted >= 40);  // the selection found the cases at all
}
