// test_cli.cpp — the `lmask` binary end to end: output formats, and the one
// promise for bad input: a single line "lmask: error: FILE: problem" on
// stderr, a non-zero exit, nothing half-written, never a crash.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli_run.h"
#include "golden.h"
#include "lmask/backend.h"
#include "lmask/image.h"
#include "small_input_weights.h"
#include "temp_dir.h"

using namespace lmask;
using lmask::testing::check_one_line_error;
using lmask::testing::data_file;
using lmask::testing::lmask_cli;
using lmask::testing::Run;
using lmask::testing::slurp;
using lmask::testing::TempDir;

namespace {

int argmax(const std::vector<float>& v, std::size_t first, std::size_t count) {
  return static_cast<int>(std::max_element(v.begin() + first, v.begin() + first + count) - v.begin() - first);
}

// The "class" of every top-k entry of --json output, in order.
std::vector<int> classes(const std::string& json) {
  std::vector<int> out;
  for (auto at = json.find("\"class\":"); at != std::string::npos; at = json.find("\"class\":", at + 1))
    out.push_back(std::stoi(json.substr(at + 8)));
  return out;
}

// The "class" of the first top-k entry of a --json line.
int first_class(const std::string& json) {
  const std::vector<int> all = classes(json);
  REQUIRE(!all.empty());
  return all.front();
}

}  // namespace

TEST_CASE("cli: classify --json gives PyTorch's top-1 for a golden photo") {
  TempDir tmp("cli");
  const std::string weights = lmask::testing::golden_path("resnet50_random.h5");
  const Hdf5File cases(lmask::testing::golden_path("cases.h5"));
  const std::vector<float> clean = cases.read_floats("expected/clean");  // [3,1000], chelsea first
  const Run r = lmask_cli(tmp, "classify --json --topk 3 --weights " + weights + " " + data_file("chelsea.png"));
  REQUIRE(r.status == 0);
  CHECK(r.err.empty());
  CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);
  CHECK(r.out.find("\"image\":\"" + data_file("chelsea.png") + "\"") != std::string::npos);
  CHECK(first_class(r.out) == argmax(clean, 0, 1000));
  CHECK(std::count(r.out.begin(), r.out.end(), '{') == 4);  // the line and its 3 entries
}

TEST_CASE("cli: everything removed with layer masking leaves the fc bias") {
  TempDir tmp("cli");
  const std::string weights = lmask::testing::golden_path("resnet50_random.h5");
  const std::vector<float> bias = Hdf5File(weights).read_floats("fc.bias");
  const Run r = lmask_cli(tmp, "classify --json --method layer --remove 1 --save-masked " + tmp.file("shown.png") +
                                   " --weights " + weights + " " + data_file("coffee.png"));
  REQUIRE(r.status == 0);
  CHECK(first_class(r.out) == argmax(bias, 0, bias.size()));
  const ImageU8 shown = read_image(tmp.file("shown.png"));
  CHECK(shown.width == 224);
  CHECK(shown.height == 224);
}

TEST_CASE("cli: classify with layer masking runs on every backend and agrees with native") {
  TempDir tmp("cli");
  const std::string weights = lmask::testing::golden_path("resnet50_random.h5");
  const std::string args = "classify --json --topk 5 --method layer --patches 16 --remove 0.5 --seed 1 --weights " +
                           weights + " " + data_file("chelsea.png") + " --backend ";
  const Run native = lmask_cli(tmp, args + "native");
  REQUIRE(native.status == 0);
  for (const std::string& name : available_backends()) {
    CAPTURE(name);
    const Run r = lmask_cli(tmp, args + name);
    REQUIRE(r.status == 0);
    // The same five classes in the same order (a wrong masked forward would
    // rank others first).
    const std::vector<int> got = classes(r.out);
    CHECK(got.size() == 5);
    CHECK(got == classes(native.out));
  }
}

TEST_CASE("cli: bad input gets one line naming the file and exit status 2") {
  TempDir tmp("cli");
  const std::string weights = lmask::testing::golden_path("resnet50_random.h5");
  const std::string photo = data_file("chelsea.png");

  SUBCASE("missing weights") {
    check_one_line_error(lmask_cli(tmp, "classify --weights " + tmp.file("none.h5") + " " + photo),
                         tmp.file("none.h5"));
  }
  SUBCASE("weights that are not HDF5") {
    std::ofstream(tmp.file("junk.h5")) << "these bytes are not an HDF5 file";
    check_one_line_error(lmask_cli(tmp, "classify --weights " + tmp.file("junk.h5") + " " + photo),
                         tmp.file("junk.h5"));
  }
  SUBCASE("a truncated image") {
    const std::string bytes = slurp(photo);
    std::ofstream(tmp.file("cut.png"), std::ios::binary).write(bytes.data(), bytes.size() / 3);
    check_one_line_error(lmask_cli(tmp, "classify --weights " + weights + " " + tmp.file("cut.png")),
                         tmp.file("cut.png"));
  }
  SUBCASE("an image that does not exist") {
    check_one_line_error(lmask_cli(tmp, "classify --weights " + weights + " " + tmp.file("gone.jpg")),
                         tmp.file("gone.jpg"));
  }
  SUBCASE("a mask of another size than the image") {
    write_png(tmp.file("mask.png"), ImageU8(100, 80));
    const Run r = lmask_cli(tmp, "classify --weights " + weights + " --mask " + tmp.file("mask.png") +
                                     " --save-masked " + tmp.file("shown.png") + " " + photo);
    check_one_line_error(r, tmp.file("mask.png"));
    CHECK_FALSE(std::ifstream(tmp.file("shown.png")).good());  // nothing written
  }
  SUBCASE("an unknown masking method") {
    check_one_line_error(lmask_cli(tmp, "classify --weights " + weights + " --remove 0.5 --method paint " + photo),
                         "--method");
  }
  SUBCASE("a dataset folder that does not exist") {
    check_one_line_error(lmask_cli(tmp, "eval --weights " + weights + " --dataset folder:" + tmp.file("nowhere")),
                         tmp.file("nowhere"));
  }
}

TEST_CASE("cli: hostile values and files get one line too, never a crash") {
  TempDir tmp("cli");
  const std::string weights = lmask::testing::small_input_weights(tmp, 64);
  const std::string photo = data_file("chelsea.png");  // 451x300

  SUBCASE("--remove nan is refused by the option check") {
    check_one_line_error(lmask_cli(tmp, "classify --weights " + weights + " --remove nan " + photo), "--remove");
  }
  SUBCASE("a negative --limit or --seed is refused, not wrapped around to a huge number") {
    check_one_line_error(lmask_cli(tmp, "eval --dataset fmnist:test --limit -1 --weights " + weights), "--limit");
    check_one_line_error(lmask_cli(tmp, "classify --remove 0.5 --seed -3 x.png --weights " + weights), "--seed");
  }
  SUBCASE("a mask that removes every pixel") {
    write_png(tmp.file("zero.png"), ImageU8(451, 300));
    const std::string mask = tmp.file("zero.png");
    check_one_line_error(lmask_cli(tmp, "classify --weights " + weights + " --mask " + mask + " " + photo), mask);
  }
  SUBCASE("a JPEG mask") {
    std::filesystem::copy_file(data_file("rocket.jpg"), tmp.file("mask.jpg"));
    const std::string mask = tmp.file("mask.jpg");
    check_one_line_error(lmask_cli(tmp, "classify --weights " + weights + " --mask " + mask + " " + photo), mask);
  }
  SUBCASE("weights whose input_size attribute is beyond the limit") {
    TempDir other("cli");
    const std::string huge = lmask::testing::small_input_weights(other, 100000);
    check_one_line_error(lmask_cli(tmp, "classify --weights " + huge + " " + photo), huge);
  }
  SUBCASE("an image too thin to resize") {
    ImageU8 sliver(1, 60000);
    write_png(tmp.file("sliver.png"), sliver);
    check_one_line_error(lmask_cli(tmp, "classify --weights " + weights + " " + tmp.file("sliver.png")),
                         tmp.file("sliver.png"));
  }
}

TEST_CASE("cli: eval --on-bad-file: stop names the file, skip warns, counts it and goes on") {
  TempDir tmp("cli");
  const std::string weights = lmask::testing::small_input_weights(tmp, 64);
  std::filesystem::create_directories(tmp.path / "root" / "cat");
  std::filesystem::copy_file(data_file("chelsea.png"), tmp.file("root/cat/a.png"));
  std::ofstream(tmp.file("root/cat/b.png")) << "half a picture";
  std::filesystem::copy_file(data_file("coffee.png"), tmp.file("root/cat/c.png"));
  const std::string args = "eval --weights " + weights + " --batch 2 --dataset folder:" + tmp.file("root");

  check_one_line_error(lmask_cli(tmp, args), tmp.file("root/cat/b.png"));
  check_one_line_error(lmask_cli(tmp, args + " --on-bad-file stop"), tmp.file("root/cat/b.png"));

  const Run r = lmask_cli(tmp, args + " --on-bad-file skip");
  CAPTURE(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.err.find("lmask: warning: " + tmp.file("root/cat/b.png") + ": ") != std::string::npos);
  CHECK(r.out.find("\"images\":2,\"skipped_images\":1,") != std::string::npos);

  check_one_line_error(lmask_cli(tmp, args + " --on-bad-file ignore"), "--on-bad-file");
}

TEST_CASE("cli: eval on 200 Fashion-MNIST test images reproduces PyTorch's accuracy") {
  // Counts from `tools/eval_torch_fmnist.py --limit 200` on the shipped
  // weights: PyTorch classifies 183 of the first 200 test images correctly
  // and has every label in its top 5.
  TempDir tmp("cli");
  const Run r = lmask_cli(tmp, "eval --weights " + std::string(LMASK_SOURCE_DIR) +
                                   "/weights/resnet50_fmnist.h5 --dataset fmnist:test --limit 200");
  REQUIRE(r.status == 0);
  CAPTURE(r.out);
  CHECK(r.out.find("\"images\":200,") != std::string::npos);
  CHECK(r.out.find("\"top1_correct\":183,") != std::string::npos);
  CHECK(r.out.find("\"top5_correct\":200,") != std::string::npos);
}
