// test_converter.cpp — the round trip: tools/convert_torchvision.py writes a
// torchvision model to HDF5, lmask loads it, and its logits and features
// equal PyTorch's on the same input (tools/reference_logits.py).
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "golden.h"
#include "lmask/model.h"

using namespace lmask;
namespace fs = std::filesystem;

namespace {

void run_tool(const std::string& args) {
  const std::string cmd = std::string(LMASK_PYTHON) + " " + LMASK_SOURCE_DIR + "/tools/" + args;
  INFO("command: " << cmd);
  REQUIRE(std::system(cmd.c_str()) == 0);
}

// Converts a random-init `arch`, runs it in PyTorch and in lmask, compares.
void round_trip(const std::string& arch, const std::string& flags, int size, float tolerance) {
  const fs::path dir = fs::temp_directory_path() / ("lmask-convert-" + std::to_string(::getpid()) + arch);
  fs::create_directories(dir);
  const std::string weights = (dir / "w.h5").string(), ref = (dir / "ref.h5").string();
  run_tool("convert_torchvision.py --random-init --arch " + arch + " --seed 3 --calibrate-batches 1 " +
           flags + " --out " + weights);
  run_tool("reference_logits.py --weights " + weights + " --out " + ref + " --batch 2 --size " +
           std::to_string(size) + " --seed 5");

  const Model model = Model::load(weights);
  const Hdf5File f(ref);
  const Tensor x = testing::read_tensor(f, "input");
  const Tensor features = model.features(x);
  const Tensor logits = model.classify(features);
  const float logit_diff = max_abs_diff(logits, testing::read_tensor(f, "logits"));
  const float feature_diff = max_abs_diff(features, testing::read_tensor(f, "features"));
  MESSAGE(arch << " " << flags << ": logits max |diff| = " << logit_diff
                << " (max |logit| = " << max_abs(logits) << "), features " << feature_diff);
  CHECK(logit_diff <= tolerance);
  CHECK(feature_diff <= tolerance);
  fs::remove_all(dir);
}

}  // namespace

TEST_CASE("converter: resnet50 random-init round trip matches PyTorch logits") {
  round_trip("resnet50", "", 96, 1e-3f);
}

TEST_CASE("converter: resnet50 --fp16 file round trip (reference reads the same rounded weights)") {
  round_trip("resnet50", "--fp16", 64, 1e-3f);
}

TEST_CASE("converter: resnet18 (BasicBlock) round trip") { round_trip("resnet18", "", 64, 1e-3f); }

TEST_CASE("converter: resnext50_32x4d (grouped convs) round trip") {
  round_trip("resnext50_32x4d", "", 64, 1e-3f);
}
