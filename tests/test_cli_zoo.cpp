// test_cli_zoo.cpp — every `lmask` command that takes a model (classify,
// eval, bench, explain, the four studies) on two zoo models that are not
// ResNets: SqueezeNet 1.1 (no BatchNorm; its features are the pooled
// classifier conv, its head a flatten) and MobileNetV3-Large (a head of two
// Linears around a Hardswish). The golden random files of
// ../shared/golden/zoo, at 224 px where a PyTorch answer is known, else
// copied at 64 px (tests/zoo_weights.h) to keep each run to seconds.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "cli_run.h"
#include "golden.h"
#include "lmask/backend.h"
#include "lmask/image.h"
#include "temp_dir.h"
#include "tiny_fashion_mnist.h"
#include "zoo_weights.h"

using namespace lmask;
using lmask::testing::data_file;
using lmask::testing::lmask_cli;
using lmask::testing::Run;
using lmask::testing::slurp;
using lmask::testing::TempDir;

namespace {

const std::vector<std::string> kArchs{"squeezenet1_1", "mobilenet_v3_large"};

// The "class" and "prob" of every top-k entry of a --json line, in order.
std::vector<std::pair<int, double>> top_entries(const std::string& json) {
  std::vector<std::pair<int, double>> out;
  for (auto at = json.find("\"class\":"); at != std::string::npos; at = json.find("\"class\":", at + 1)) {
    const auto prob = json.find("\"prob\":", at);
    out.emplace_back(std::stoi(json.substr(at + 8)), std::stod(json.substr(prob + 7)));
  }
  return out;
}

int argmax(const std::vector<float>& v, std::size_t first, std::size_t count) {
  return static_cast<int>(std::max_element(v.begin() + first, v.begin() + first + count) - v.begin() - first);
}

// The class a zoo model predicts with everything removed by layer masking:
// its head on all-zero features (LAYER_MASKING_ZOO.md). SqueezeNet: all
// logits 0, every class alike; MobileNetV3: W2 hardswish(b1) + b2.
int all_removed_class(const std::string& arch, const std::string& weights) {
  if (arch == "squeezenet1_1") return -1;
  const Hdf5File f(weights);
  const std::vector<float> b1 = f.read_floats("classifier.0.bias"), w2 = f.read_floats("classifier.3.weight"),
                           b2 = f.read_floats("classifier.3.bias");
  std::vector<float> logits(b2);
  for (std::size_t o = 0; o < b2.size(); ++o) {
    double z = b2[o];
    for (std::size_t i = 0; i < b1.size(); ++i) {
      const double v = b1[i], hardswish = v * std::clamp(v + 3.0, 0.0, 6.0) / 6.0;
      z += double(w2[o * b1.size() + i]) * hardswish;
    }
    logits[o] = static_cast<float>(z);
  }
  return argmax(logits, 0, logits.size());
}

// A CSV's lines, header first; none may hold a non-finite number.
std::vector<std::string> csv_lines(const std::string& path) {
  std::vector<std::string> lines;
  std::istringstream in(slurp(path));
  for (std::string line; std::getline(in, line);) {
    CAPTURE(line);
    CHECK(line.find("nan") == std::string::npos);
    CHECK(line.find("inf") == std::string::npos);
    lines.push_back(line);
  }
  return lines;
}

}  // namespace

TEST_CASE("cli zoo: classify gives PyTorch's top-1, layer masking agrees across backends, all removed is the head's rule") {
  TempDir tmp("cli_zoo");
  const Hdf5File cases(lmask::testing::golden_path("zoo/zoo_cases.h5"));
  for (const std::string& arch : kArchs) {
    CAPTURE(arch);
    const std::string weights = lmask::testing::golden_path("zoo/" + arch + "_random.h5");
    const std::vector<float> clean = cases.read_floats("expected/" + arch + "/clean");  // [3,1000], chelsea first
    const Run r = lmask_cli(tmp, "classify --json --topk 3 --weights " + weights + " " + data_file("chelsea.png"));
    CAPTURE(r.err);
    REQUIRE(r.status == 0);
    CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);
    const auto top = top_entries(r.out);
    REQUIRE(top.size() == 3);
    CHECK(top[0].first == argmax(clean, 0, 1000));
    CHECK(top[0].second >= top[1].second);

    const std::string masked = "classify --json --topk 5 --method layer --patches 16 --remove 0.5 --seed 1 --weights " +
                               weights + " " + data_file("chelsea.png") + " --backend ";
    const Run native = lmask_cli(tmp, masked + "native");
    REQUIRE(native.status == 0);
    REQUIRE(top_entries(native.out).size() == 5);
    for (const std::string& name : available_backends()) {
      CAPTURE(name);
      const Run b = lmask_cli(tmp, masked + name);
      REQUIRE(b.status == 0);
      std::vector<int> got, want;
      for (const auto& [c, p] : top_entries(b.out)) got.push_back(c);
      for (const auto& [c, p] : top_entries(native.out)) want.push_back(c);
      CHECK(got == want);
    }

    const Run removed = lmask_cli(tmp, "classify --json --topk 2 --method layer --remove 1 --weights " + weights +
                                           " " + data_file("coffee.png"));
    REQUIRE(removed.status == 0);
    const auto all = top_entries(removed.out);
    REQUIRE(all.size() == 2);
    const int expected = all_removed_class(arch, weights);
    if (expected < 0) {  // every logit 0: softmax 1/1000 for each class
      CHECK(all[0].second == doctest::Approx(0.001).epsilon(1e-6));
      CHECK(all[1].second == doctest::Approx(0.001).epsilon(1e-6));
    } else {
      CHECK(all[0].first == expected);
    }
  }
}

TEST_CASE("cli zoo: eval on an image folder, clean and layer-masked, reports every image and sane rates") {
  TempDir tmp("cli_zoo");
  std::filesystem::create_directories(tmp.path / "root" / "cat");
  std::filesystem::create_directories(tmp.path / "root" / "cup");
  std::filesystem::copy_file(data_file("chelsea.png"), tmp.file("root/cat/a.png"));
  std::filesystem::copy_file(data_file("coffee.png"), tmp.file("root/cup/b.png"));
  std::filesystem::copy_file(data_file("chelsea.png"), tmp.file("root/cup/c.png"));
  for (const std::string& arch : kArchs) {
    CAPTURE(arch);
    const std::string weights = lmask::testing::zoo_weights(tmp, arch, {64, ""});
    for (const std::string& method : {std::string(), std::string(" --method layer --remove 0.5")}) {
      CAPTURE(method);
      const Run r = lmask_cli(tmp, "eval --weights " + weights + " --batch 2 --dataset folder:" + tmp.file("root") + method);
      CAPTURE(r.err);
      REQUIRE(r.status == 0);
      CAPTURE(r.out);
      CHECK(r.out.find("\"images\":3,\"skipped_images\":0,") != std::string::npos);
      CHECK(r.out.find("\"method\":\"" + std::string(method.empty() ? "none" : "layer") + "\"") != std::string::npos);
      // Two classes of a 1000-class model's: top-1 and top-5 are counts of 3.
      for (const std::string key : {"\"top1_correct\":", "\"top5_correct\":"}) {
        const auto at = r.out.find(key);
        REQUIRE(at != std::string::npos);
        const int n = std::stoi(r.out.substr(at + key.size()));
        CHECK(n >= 0);
        CHECK(n <= 3);
      }
    }
  }
}

TEST_CASE("cli zoo: bench times clean and layer-masked forwards, both executions") {
  TempDir tmp("cli_zoo");
  for (const std::string& arch : kArchs) {
    CAPTURE(arch);
    const std::string weights = lmask::testing::zoo_weights(tmp, arch, {64, ""});
    for (const std::string execution : {"active", "dense"}) {
      const Run r = lmask_cli(tmp, "bench --weights " + weights + " --batch 2 --iters 1 --method layer --remove 0,0.5 "
                                   "--execution " + execution);
      CAPTURE(r.err);
      REQUIRE(r.status == 0);
      CAPTURE(r.out);
      CHECK(r.out.find("batch 2 at 64x64") != std::string::npos);
      CHECK(r.out.find(" clean ") != std::string::npos);
      CHECK(r.out.find("layer/" + execution + " ") != std::string::npos);
      CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 4);  // the header, clean, two fractions
      CHECK(r.out.find("nan") == std::string::npos);
    }
  }
}

TEST_CASE("cli zoo: explain writes a heat map of the input size and ranks segments") {
  TempDir tmp("cli_zoo");
  for (const std::string& arch : kArchs) {
    CAPTURE(arch);
    const std::string weights = lmask::testing::zoo_weights(tmp, arch, {64, ""});
    const std::string heat = tmp.file(arch + "_heat.png");
    const Run r = lmask_cli(tmp, "explain --weights " + weights + " --method layer --samples 16 --patches 8 --seed 2 " +
                                     data_file("chelsea.png") + " --out " + heat);
    CAPTURE(r.err);
    REQUIRE(r.status == 0);
    CAPTURE(r.out);
    const ImageU8 png = read_image(heat);
    CHECK(png.width == 64);
    CHECK(png.height == 64);
    CHECK(r.out.find("LIME with layer masking on a grid of 8 px squares (64 segments), 16 perturbations, seed 2") !=
          std::string::npos);
    CHECK(r.out.find("rank  segment  coefficient  pixels\n   1  ") != std::string::npos);
    CHECK(r.out.find("nan") == std::string::npos);
  }
}

TEST_CASE("cli zoo: the four studies run and write their rows") {
  TempDir tmp("cli_zoo");
  lmask::testing::write_tiny_fashion_mnist(tmp);  // two images, labels 3 and 9
  const std::string dataset = " --dataset fmnist:test:" + tmp.path.string();
  // study -> (its options, rows after the header: methods x conditions).
  const std::vector<std::pair<std::string, std::pair<std::string, std::size_t>>> studies{
      {"removal", {"--methods grey,layer --fractions 0,1", 2 * 2}},
      {"leakage", {"--methods grey,layer", 2 * 3}},
      {"linearity", {"--methods grey,layer", 2}},
      {"lime", {"--methods grey,layer --samples 8", 2 * 5}}};
  for (const std::string& arch : kArchs) {
    CAPTURE(arch);
    const std::string weights = lmask::testing::zoo_weights(tmp, arch, {64, ""});
    for (const auto& [study, settings] : studies) {
      CAPTURE(study);
      const std::string dir = tmp.file(arch + "_" + study);
      const Run r = lmask_cli(tmp, "study " + study + " --weights " + weights + dataset + " " + settings.first +
                                       " --seed 1 --out " + dir);
      CAPTURE(r.err);
      REQUIRE(r.status == 0);
      CHECK(r.out == dir + "/" + study + ".csv\n" + dir + "/" + study + ".png\n" + dir + "/" + study + ".json\n" + dir +
                         "/index.html\n");
      CHECK(csv_lines(dir + "/" + study + ".csv").size() == 1 + settings.second);
      CHECK(slurp(dir + "/" + study + ".json").find("\"arch\": \"" + arch + "\"") != std::string::npos);
    }
  }
}
