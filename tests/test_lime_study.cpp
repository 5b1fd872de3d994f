// test_lime_study.cpp — S3, LIME with each masking method: the top-k
// ablation yardstick (k = 0 is the clean model; every k's numbers recomputed
// here by hand from the rankings), the paired design (one seed, one CSV;
// every method sees the same perturbations), the segment-mean method, and
// `lmask explain`. Run on the golden random ResNet-50 at 32 px
// (small_input_weights.h) and the two-image Fashion-MNIST of
// tiny_fashion_mnist.h, with few perturbations, so each case takes seconds.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "error_of.h"
#include "lmask/dataset.h"
#include "lmask/error.h"
#include "lmask/image.h"
#include "lmask/lime.h"
#include "lmask/lime_model.h"
#include "lmask/mask_builders.h"
#include "lmask/masking.h"
#include "lmask/study.h"
#include "small_input_weights.h"
#include "study_by_hand.h"
#include "temp_dir.h"
#include "tiny_fashion_mnist.h"

using namespace lmask;
using lmask::testing::clean_logits_by_hand;
using lmask::testing::Relabelled;
using lmask::testing::TempDir;
using lmask::testing::top_class;

using lmask::testing::slurp;
using lmask::testing::error_of;

namespace {

constexpr int kSize = 32;  // the model's input size in these tests

// One 32 px copy of the golden weights and the tiny Fashion-MNIST, for the whole test run.
struct Fixture {
  TempDir dir{"lime_study_fixture"};
  std::string weights;
  std::unique_ptr<Model> model;
  Fixture() {
    weights = lmask::testing::small_input_weights(dir, kSize);
    lmask::testing::write_tiny_fashion_mnist(dir);
    model = std::make_unique<Model>(Model::load(weights));
  }
  std::string dataset() const { return "fmnist:test:" + dir.path.string(); }
};
const Fixture& fixture() {
  static const Fixture f;
  return f;
}

struct CountingProgress final : StudyProgress {
  std::size_t total = 0, done = 0;
  void begin(const std::string&, std::size_t t) override { total = t; }
  void advance(std::size_t n) override { done += n; }
  void end() override {}
};

struct Run {
  int status = -1;
  std::string out, err;
};
Run lmask_cli(const TempDir& tmp, const std::string& args) {
  const std::string out = tmp.file("stdout"), err = tmp.file("stderr");
  const std::string cmd = "OMP_NUM_THREADS=1 " + std::string(LMASK_CLI) + " " + args + " >" + out + " 2>" + err;
  const int raw = std::system(cmd.c_str());
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, slurp(out), slurp(err)};
}

}  // namespace

TEST_CASE("study: lime: top-k ablation with k = 0 is the clean model, rows, counts, overlap, progress") {
  const Fixture& fx = fixture();
  const Model& model = *fx.model;
  const auto fmnist = open_dataset(fx.dataset(), model.meta());
  const Batch both = load_batch(*fmnist, 0, 2);
  const Tensor clean = clean_logits_by_hand(model, both.images01);
  const int clean0 = top_class(clean, 0), clean1 = top_class(clean, 1);
  // Image 0 labelled with its clean prediction (a hit), image 1 with another class (a miss).
  const Relabelled data(*fmnist, {clean0, (clean1 + 1) % model.num_classes()});

  StudySettings s;
  // colour:<the model's mean> paints exactly what grey paints: with the
  // same perturbations its LIME must agree with grey's to the last bit.
  s.methods = {"grey", "layer", "segment-mean", "colour:0.485,0.456,0.406"};
  s.limit = 0;
  s.samples = 12;
  s.patch = 8;  // 16 segments
  s.batch = 5;  // batches that do not divide the perturbations
  s.seed = 11;
  CountingProgress progress;
  const LimeResult r = run_lime(model, data, s, &progress);

  const std::vector<int> ks = lime_ablation_ks();
  CHECK(ks == std::vector<int>{0, 1, 2, 4, 8});
  CHECK(progress.total == 2 * (1 + s.methods.size() * (s.samples + ks.size())));
  CHECK(progress.done == progress.total);
  CHECK(r.common.images == 2);
  CHECK(r.common.clean_correct == 1);
  CHECK(r.segments_min == 16);
  CHECK(r.segments_max == 16);
  CHECK(r.perturbations_per_method() == 24);
  REQUIRE(r.rows.size() == s.methods.size() * ks.size());
  const double clean_prob_sum = softmax(clean, 0)[clean0] + softmax(clean, 1)[clean1];
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    const LimeRow& row = r.rows[i];
    CAPTURE(row.method);
    CAPTURE(row.k);
    CHECK(row.method == s.methods[i / ks.size()]);
    CHECK(row.k == ks[i % ks.size()]);
    CHECK(row.images == 2);
    CHECK(row.correct <= 2);
    // Both images have a foreground (tiny_fashion_mnist.h), so both count.
    CHECK(row.object_images == 2);
    CHECK(row.jaccard_sum >= 0.0);
    CHECK(row.jaccard_sum <= 2.0);
    if (row.k == 0) {
      // Nothing removed: layer masking with an all-visible mask is the plain network.
      CHECK(row.correct == r.common.clean_correct);
      CHECK(row.unchanged == 2);
      CHECK(row.prob_sum == doctest::Approx(clean_prob_sum).epsilon(1e-6));
      CHECK(row.jaccard_sum == 0.0);  // no segment chosen, a non-empty object
    }
  }
  // The paired design: grey and its colour twin, same rows to the last bit.
  for (std::size_t k = 0; k < ks.size(); ++k) {
    const LimeRow &grey = r.rows[k], &twin = r.rows[3 * ks.size() + k];
    CHECK(grey.correct == twin.correct);
    CHECK(grey.unchanged == twin.unchanged);
    CHECK(grey.prob_sum == twin.prob_sum);
    CHECK(grey.jaccard_sum == twin.jaccard_sum);
  }
  REQUIRE(r.examples.size() == 2);
  CHECK(r.examples[0].coefficients[0] == r.examples[0].coefficients[3]);
  CHECK(r.examples[0].coefficients[0] != r.examples[0].coefficients[1]);  // layer is not grey
  CHECK(r.examples[1].predicted == clean1);

  const std::string csv = lime_csv(r);
  CHECK(csv.rfind("method,k,images,correct,top1,unchanged,unchanged_rate,prob_sum,mean_prob,object_images,"
                  "jaccard_sum,mean_jaccard\ngrey,0,2,1,0.500000,2,1.000000,",
                  0) == 0);
  CHECK(csv.find("\n\"colour:0.485,0.456,0.406\",8,2,") != std::string::npos);
  const ImageU8 picture = lime_picture(r, data.description());
  CHECK(picture.width >= 1 + 4 * 128);
  CHECK(picture.height >= 2 * 128);
}

TEST_CASE("study: lime: the top-k ablation's hits, mean probability and object overlap are the ones computed here by hand") {
  const Fixture& fx = fixture();
  const Model& model = *fx.model;
  const auto fmnist = open_dataset(fx.dataset(), model.meta());
  constexpr int n = 2;
  const Batch both = load_batch(*fmnist, 0, n);
  const Tensor clean = clean_logits_by_hand(model, both.images01);
  const std::vector<int> clean_top = {top_class(clean, 0), top_class(clean, 1)};
  // Image 0 labelled with its clean prediction, image 1 with another class.
  const std::vector<int> labels = {clean_top[0], (clean_top[1] + 1) % model.num_classes()};

  StudySettings s;
  s.methods = {"grey", "layer"};
  s.limit = 0;
  s.samples = 12;
  s.patch = 8;  // 16 segments
  s.seed = 11;
  const std::vector<int> ks = {0, 1, 2, 4, 8};  // EXPERIMENTS.md S3, and k = 0 (nothing removed)
  const std::size_t rows = s.methods.size() * ks.size();
  s.batch = static_cast<int>(rows);  // all of an image's ablations in one forward, so the forwards here are the study's
  const std::string csv = lime_csv(run_lime(model, Relabelled(*fmnist, labels), s));

  // Per row (method-major, then k): hits, unchanged, the clean top-1's probability, Jaccard.
  std::vector<std::size_t> correct(rows), unchanged(rows);
  std::vector<double> prob(rows), overlap(rows);
  for (int i = 0; i < n; ++i) {
    const Sample sample = fmnist->get(i);
    const int h = sample.image01.h(), w = sample.image01.w();
    const Segmentation seg = grid_segments(h, w, s.patch);
    // EXPERIMENTS.md S3: each segment kept with probability 0.5, kernel width 0.25, ridge alpha 1.
    const std::vector<std::uint8_t> z = perturbation_matrix(s.samples, seg.count, 0.5, s.seed + i);
    // removed[j]: the segments row j's ablation removes, the k top-ranked by its method's LIME.
    std::vector<std::vector<bool>> removed;
    for (const std::string& name : s.methods) {
      const auto method = make_masking_method(name);
      const std::vector<int> ranking =
          explain_with(class_probability_target(model, *method, sample.image01, clean_top[i]), seg, z, s.samples, 0.25,
                       1.0, s.batch)
              .ranking;
      for (int k : ks) {
        removed.emplace_back(seg.count, false);
        for (int r = 0; r < std::min<int>(k, ranking.size()); ++r) removed.back()[ranking[r]] = true;
      }
    }
    // Every ablation through layer masking, the image repeated once per row.
    Tensor images({int(rows), 3, h, w}), visible({int(rows), 1, h, w});
    for (std::size_t j = 0; j < rows; ++j) {
      std::copy(sample.image01.data(), sample.image01.data() + sample.image01.numel(), images.image(int(j)));
      for (int p = 0; p < h * w; ++p) visible.image(int(j))[p] = removed[j][seg.labels[p]] ? 0.f : 1.f;
    }
    const Tensor logits = make_masking_method("layer")->logits(model, images, Mask(visible));
    for (std::size_t j = 0; j < rows; ++j) {
      correct[j] += top_class(logits, int(j)) == labels[i];
      unchanged[j] += top_class(logits, int(j)) == clean_top[i];
      prob[j] += lmask::testing::softmax_by_hand(logits, int(j))[clean_top[i]];
      // Jaccard(union of the removed segments, object mask), pixel by pixel.
      std::size_t both_in = 0, either_in = 0;
      for (int p = 0; p < h * w; ++p) {
        const bool in_union = removed[j][seg.labels[p]], in_object = sample.object.tensor().data()[p] > 0.5f;
        both_in += in_union && in_object, either_in += in_union || in_object;
      }
      REQUIRE(either_in > 0);
      overlap[j] += double(both_in) / double(either_in);
    }
  }

  std::set<std::size_t> hit_counts;
  for (std::size_t j = 0; j < rows; ++j) {
    const std::string method = s.methods[j / ks.size()];
    const int k = ks[j % ks.size()];
    CAPTURE(method);
    CAPTURE(k);
    const auto row = lmask::testing::csv_line(csv, method + "," + std::to_string(k) + ",");
    REQUIRE(row.size() == 12);
    CHECK(row[2] == std::to_string(n));
    CHECK(row[3] == std::to_string(correct[j]));
    CHECK(std::stod(row[4]) == doctest::Approx(double(correct[j]) / n).epsilon(1e-9));
    CHECK(row[5] == std::to_string(unchanged[j]));
    CHECK(std::stod(row[7]) == doctest::Approx(prob[j]).epsilon(1e-7));
    CHECK(std::stod(row[8]) == doctest::Approx(prob[j] / n).epsilon(1e-6));
    CHECK(row[9] == std::to_string(n));  // both images have an object
    CHECK(std::stod(row[11]) == doctest::Approx(overlap[j] / n).epsilon(1e-6));
    hit_counts.insert(unchanged[j]);
  }
  CHECK(hit_counts.size() > 1);  // the removals change predictions: rows that a wrong k would mix up differ
}

TEST_CASE("study: lime: the same seed gives byte-identical CSVs, files, JSON throughput, report, bad input") {
  const Fixture& fx = fixture();
  TempDir tmp("lime_study_paired");
  auto run_with_seed = [&](std::uint64_t seed, const std::string& name, const std::string& segmentation) {
    StudyRun run;
    run.study = "lime";
    run.weights = fx.weights;
    run.dataset = fx.dataset();
    run.out_dir = tmp.file(name);
    run.settings.methods = {"layer", "segment-mean"};
    run.settings.limit = 0;
    run.settings.samples = 8;
    run.settings.patch = 8;
    run.settings.batch = 8;
    run.settings.seed = seed;
    run.settings.segmentation = segmentation;
    return run_study(run);
  };
  const StudyOutputs a = run_with_seed(3, "a", "grid"), b = run_with_seed(3, "b", "grid");
  const StudyOutputs c = run_with_seed(4, "c", "grid");
  CHECK(a.csv == tmp.file("a") + "/lime.csv");
  CHECK(a.report == tmp.file("a") + "/index.html");
  const std::string csv = slurp(a.csv);
  CHECK(csv == slurp(b.csv));
  CHECK(csv != slurp(c.csv));  // other perturbations, other rankings and ablations
  const std::string json = slurp(a.json);
  CHECK(json.find("\"study\": \"lime\"") != std::string::npos);
  CHECK(json.find("\"segmentation\": \"grid\"") != std::string::npos);
  CHECK(json.find("\"samples\": 8") != std::string::npos);
  CHECK(json.find("\"perturbations_per_method\": 16") != std::string::npos);
  const auto at = json.find("\"lime_perturbations_per_s\": {\"layer\": ");
  REQUIRE(at != std::string::npos);
  CHECK(std::stod(json.substr(at + 39)) > 0.0);
  const ImageU8 picture = read_image(a.png);
  CHECK(picture.width >= 640);
  CHECK(picture.height >= 2 * 128);
  CHECK(slurp(a.report).find("src=\"lime.png\"") != std::string::npos);

  const StudyOutputs slic = run_with_seed(3, "slic", "slic");
  CHECK(slurp(slic.json).find("\"segmentation\": \"slic\"") != std::string::npos);

  StudyRun bad;
  bad.study = "lime";
  bad.weights = tmp.file("never_loaded.h5");
  bad.dataset = fx.dataset();
  bad.out_dir = tmp.file("bad");
  bad.settings.segmentation = "voronoi";
  CHECK(error_of<InputError>([&] { run_study(bad); }) ==
        "--segmentation: unknown segmentation 'voronoi' (known: grid, slic)");
  // segment-mean is LIME's: the other studies have no segments to fill with.
  bad.study = "removal";
  bad.settings.segmentation = "grid";
  bad.settings.methods = {"segment-mean"};
  CHECK(error_of<InputError>([&] { run_study(bad); }).find("needs segments") != std::string::npos);
}

TEST_CASE("study: lime: segment-mean fills each removed segment with its own mean colour") {
  const Model& model = *fixture().model;
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> unit(0.f, 1.f);
  // Two different 7x9 images and an irregular segmentation: grid cells of
  // 3 px whose ids are scrambled, two of them merged into one segment.
  Tensor img({2, 3, 7, 9});
  for (std::size_t i = 0; i < img.numel(); ++i) img.data()[i] = unit(rng);
  Segmentation seg = grid_segments(7, 9, 3);  // 3 x 3 cells
  for (int& id : seg.labels) id = id == 8 ? 0 : (id * 5) % 8;  // still 0..7, each used
  seg.count = 8;
  const std::vector<int> removed = {0, 3, 6};
  const Mask one = segment_mask(seg.labels, 7, 9, removed);
  const Mask m = stack_masks({one, one});

  const auto method = make_segment_mean_method(seg);
  CHECK(method->name() == "segment-mean");
  const Tensor shown = method->shown(model, img, m);
  REQUIRE(shown.shape() == img.shape());
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 7; ++y)
        for (int x = 0; x < 9; ++x) {
          CAPTURE(n);
          CAPTURE(c);
          CAPTURE(y);
          CAPTURE(x);
          const int id = seg.labels[y * 9 + x];
          if (std::find(removed.begin(), removed.end(), id) == removed.end()) {
            CHECK(shown.at(n, c, y, x) == img.at(n, c, y, x));
            continue;
          }
          double sum = 0;
          int count = 0;
          for (int yy = 0; yy < 7; ++yy)
            for (int xx = 0; xx < 9; ++xx)
              if (seg.labels[yy * 9 + xx] == id) sum += img.at(n, c, yy, xx), ++count;
          CHECK(shown.at(n, c, y, x) == doctest::Approx(sum / count).epsilon(1e-6));
        }

  // By name it cannot exist: it needs the segments.
  CHECK(error_of<InputError>([] { make_masking_method("segment-mean"); }).find("needs segments") != std::string::npos);
  // Its features are the plain network's on what it shows.
  const Tensor small = Tensor({1, 3, kSize, kSize});
  const auto grid_method = make_segment_mean_method(grid_segments(kSize, kSize, 8));
  const Mask half = patch_mask(kSize, kSize, 8, {0, 5, 10, 15});
  Tensor x = grid_method->shown(model, small, half);
  normalize(x, model.meta().mean, model.meta().std);
  CHECK(max_abs_diff(grid_method->features(model, small, half), model.features(x)) == 0.f);
}

TEST_CASE("study: lime: explain CLI writes a PNG of the input size and prints the top segments") {
  const Fixture& fx = fixture();
  TempDir tmp("lime_explain");
  const std::string image = std::string(LMASK_SOURCE_DIR) + "/data/chelsea.png";
  const std::string heat = tmp.file("heat.png");
  const Run r = lmask_cli(tmp, "explain --weights " + fx.weights + " --method layer --samples 16 --patches 8 --seed 2 " +
                                   image + " --out " + heat);
  CAPTURE(r.err);
  REQUIRE(r.status == 0);
  const ImageU8 png = read_image(heat);
  CHECK(png.width == kSize);
  CHECK(png.height == kSize);
  CHECK(r.out.find("LIME with layer masking on a grid of 8 px squares (16 segments), 16 perturbations, seed 2") !=
        std::string::npos);
  CHECK(r.out.find("rank  segment  coefficient  pixels\n   1  ") != std::string::npos);
  CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1 + 1 + 5 + 1);

  const Run slic = lmask_cli(tmp, "explain --weights " + fx.weights + " --method segment-mean --segmentation slic "
                                  "--samples 8 --top 2 " + image + " --out " + tmp.file("slic.png"));
  CAPTURE(slic.err);
  CHECK(slic.status == 0);
  CHECK(read_image(tmp.file("slic.png")).width == kSize);

  // Bad input: one line naming what is wrong, exit status 2, nothing written.
  for (const auto& [args, where] : std::vector<std::pair<std::string, std::string>>{
           {"explain --weights " + fx.weights + " " + tmp.file("missing.png") + " --out " + tmp.file("x.png"),
            tmp.file("missing.png")},
           {"explain --weights " + fx.weights + " --segmentation voronoi " + image + " --out " + tmp.file("x.png"),
            "--segmentation"},
           {"explain --weights " + fx.weights + " --method sepia " + image + " --out " + tmp.file("x.png"), "--method"},
           {"explain --weights " + fx.weights + " " + image + " --out " + tmp.file("no_dir") + "/x.png",
            tmp.file("no_dir") + "/x.png"}}) {
    const Run bad = lmask_cli(tmp, args);
    CAPTURE(args);
    CAPTURE(bad.err);
    CHECK(bad.status == 2);
    CHECK(std::count(bad.err.begin(), bad.err.end(), '\n') == 1);
    CHECK(bad.err.rfind("lmask: error: " + where + ": ", 0) == 0);
  }
  CHECK(!std::filesystem::exists(tmp.file("x.png")));
}
