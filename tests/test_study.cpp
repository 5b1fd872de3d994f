// test_study.cpp — the studies S1 removal, S2 leakage, S4 linearity, their
// output files, the atomic writer and the PNG plotter. Properties that hold
// whatever the model: run on the golden random ResNet-50 (224 px) with the
// golden photos or a two-image Fashion-MNIST written here, a few images each,
// so every case stays well under 20 s on one thread. Each study's headline
// numbers are also computed here by hand, from the network's public forward
// calls on the small study (small_study.h, 32 px), and compared with its CSV.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "error_of.h"
#include "golden.h"
#include "lmask/atomic_file.h"
#include "lmask/dataset.h"
#include "lmask/error.h"
#include "lmask/hdf5_file.h"
#include "lmask/image.h"
#include "lmask/mask_builders.h"
#include "lmask/masking.h"
#include "lmask/plot.h"
#include "lmask/study.h"
#include "small_study.h"
#include "study_by_hand.h"
#include "temp_dir.h"
#include "tiny_fashion_mnist.h"

using namespace lmask;
using lmask::testing::golden_model;
using lmask::testing::golden_path;
using lmask::testing::Relabelled;
using lmask::testing::TempDir;
using lmask::testing::top_class;
namespace fs = std::filesystem;

using lmask::testing::error_of;
using lmask::testing::slurp;

namespace {

// The golden photos (chelsea, coffee, astronaut) as a dataset whose labels
// the test chooses; no object masks.
class PhotoSet final : public Dataset {
 public:
  PhotoSet(int count, std::vector<int> labels) : labels_(std::move(labels)) {
    const Hdf5File cases(golden_path("cases.h5"));
    all_ = lmask::testing::read_tensor(cases, "input_01");
    REQUIRE(count <= all_.n());
    REQUIRE(labels_.size() == std::size_t(count));
  }
  std::size_t size() const override { return labels_.size(); }
  Sample get(std::size_t i) const override {
    Sample s;
    s.image01 = all_.batch(static_cast<int>(i), 1).clone();
    s.label = labels_[i];
    s.name = "photo#" + std::to_string(i);
    return s;
  }
  const std::vector<std::string>& class_names() const override { return names_; }
  std::string description() const override { return "golden-photos"; }

 private:
  Tensor all_;
  std::vector<int> labels_;
  std::vector<std::string> names_;
};

// Records what a study reports, to check it against the work it did.
struct CountingProgress final : StudyProgress {
  std::size_t total = 0, done = 0;
  int begins = 0, ends = 0;
  void begin(const std::string&, std::size_t t) override { total = t, ++begins; }
  void advance(std::size_t n) override { done += n; }
  void end() override { ++ends; }
};

// CSV rows (header included) split at commas; the tests' fields hold none.
std::vector<std::vector<std::string>> csv_rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::stringstream lines(text);
  std::string line, field;
  while (std::getline(lines, line)) {
    rows.emplace_back();
    std::stringstream fields(line);
    while (std::getline(fields, field, ',')) rows.back().push_back(field);
  }
  return rows;
}

// A run on the two-image Fashion-MNIST written into tmp, output in tmp/out_name.
StudyRun tiny_run(const TempDir& tmp, const std::string& study, const std::string& out_name) {
  StudyRun run;
  run.study = study;
  run.weights = golden_path("resnet50_random.h5");
  run.dataset = "fmnist:test:" + tmp.path.string();
  run.out_dir = tmp.file(out_name);
  run.settings.limit = 0;
  run.settings.batch = 2;
  return run;
}

void check_png(const std::string& path) {
  const ImageU8 img = read_image(path);
  CHECK(img.width >= 400);
  CHECK(img.width <= 4000);
  CHECK(img.height >= 300);
  CHECK(img.height <= 2000);
}

std::size_t count_differing_pixels(const ImageU8& a, const ImageU8& b) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < a.rgb.size(); i += 3)
    n += a.rgb[i] != b.rgb[i] || a.rgb[i + 1] != b.rgb[i + 1] || a.rgb[i + 2] != b.rgb[i + 2];
  return n;
}

}  // namespace

TEST_CASE("study: settings: default patch size, method lists") {
  CHECK(default_patch_size(224) == 16);
  CHECK(default_patch_size(64) == 5);
  CHECK(default_patch_size(28) == 2);
  CHECK(default_patch_size(1) == 1);
  CHECK(default_removal_fractions().size() == 11);
  CHECK(default_removal_fractions()[3] == 0.3);
  CHECK(parse_method_list("black,colour:0,0,255,layer") ==
        std::vector<std::string>{"black", "colour:0,0,255", "layer"});
  CHECK(error_of<InputError>([] { parse_method_list("grey,colour:1,2"); }).find("colour:R,G,B") != std::string::npos);
  CHECK(error_of<InputError>([] { parse_method_list("grey,,layer"); }).find("empty") != std::string::npos);
}

TEST_CASE("study: removal at fraction 0 is the clean model, at fraction 1 layer masking predicts argmax fc.bias") {
  const Model& model = golden_model();
  // fc(0) = fc.bias: what a network that sees nothing can only say.
  const Tensor bias = model.classify(Tensor({1, model.feature_channels(), 1, 1}));
  const int bias_class = top_class(bias, 0);

  // Labels: photo 0 its clean prediction (a hit), photo 1 the bias class.
  const PhotoSet probe(2, {0, 0});
  Tensor x = load_batch(probe, 0, 2).images01;
  normalize(x, model.meta().mean, model.meta().std);
  const Tensor clean = model.forward(x);
  const std::vector<int> clean_top = {top_class(clean, 0), top_class(clean, 1)};
  const PhotoSet photos(2, {clean_top[0], bias_class});

  SUBCASE("layer masking with everything removed gives exactly the fc.bias logits") {
    const Tensor img = load_batch(photos, 0, 1).images01;
    const Tensor logits = make_masking_method("layer")->logits(model, img, Mask::removed(1, img.h(), img.w()));
    CHECK(max_abs_diff(logits, bias) <= 1e-6f);
  }

  SUBCASE("every method at fractions 0 and 1") {
    StudySettings s;
    s.fractions = {0.0, 1.0};
    s.limit = 0;
    s.batch = 2;
    s.seed = 7;
    CountingProgress progress;
    const RemovalResult r = run_removal(model, photos, s, &progress);
    CHECK(progress.begins == 1);
    CHECK(progress.ends == 1);
    CHECK(progress.total == 2 * (1 + s.methods.size() * 2));
    CHECK(progress.done == progress.total);

    const std::size_t clean_hits = (clean_top[0] == photos.get(0).label) + (clean_top[1] == bias_class);
    CHECK(r.common.clean_correct == clean_hits);
    CHECK(r.common.patches == 14 * 14);
    REQUIRE(r.rows.size() == s.methods.size() * 2);
    for (const RemovalRow& row : r.rows) {
      CAPTURE(row.method);
      CAPTURE(row.fraction);
      CHECK(row.images == 2);
      if (row.fraction == 0.0 && row.method == "layer-renorm") {
        // Partial convolution counts the zero padding as removed, so even
        // with everything visible it rescales the border outputs of every
        // conv: it is not the clean network at fraction 0, by design
        // (LAYER_MASKING.md; test_masking_methods.cpp checks it is finite).
        CHECK(row.removed_patches == 0);
        CHECK(std::isfinite(row.kl_sum));
      } else if (row.fraction == 0.0) {
        CHECK(row.removed_patches == 0);
        CHECK(row.correct == r.common.clean_correct);
        CHECK(row.unchanged == 2);
        CHECK(std::fabs(row.kl_sum) <= 1e-6);
      } else if (row.method.rfind("layer", 0) == 0) {
        CHECK(row.removed_patches == 196);
        CHECK(row.correct == std::size_t(1 + (clean_top[0] == bias_class)));
        CHECK(row.unchanged == std::size_t((clean_top[0] == bias_class) + (clean_top[1] == bias_class)));
      }
    }
    const auto rows = csv_rows(removal_csv(r));
    REQUIRE(rows.size() == 1 + r.rows.size());
    CHECK(rows[0] == std::vector<std::string>{"method", "fraction", "removed_patches", "patches", "images", "correct",
                                              "top1", "unchanged", "unchanged_rate", "kl_sum", "mean_kl"});
  }
}

TEST_CASE("study: removal output files, the same seed gives byte-identical CSVs") {
  TempDir tmp("study_removal");
  lmask::testing::write_tiny_fashion_mnist(tmp);
  auto run_with_seed = [&](std::uint64_t seed, const std::string& name) {
    StudyRun run = tiny_run(tmp, "removal", name);
    run.settings.methods = {"grey", "layer"};
    run.settings.fractions = {0.0, 0.5};
    run.settings.seed = seed;
    return run_study(run);
  };
  const StudyOutputs a = run_with_seed(3, "a"), b = run_with_seed(3, "b/nested"), c = run_with_seed(4, "c");
  CHECK(a.csv == tmp.file("a") + "/removal.csv");
  const std::string csv = slurp(a.csv);
  CHECK(csv == slurp(b.csv));
  CHECK(csv != slurp(c.csv));  // other patch orders: other KL at f = 0.5
  const auto rows = csv_rows(csv);
  REQUIRE(rows.size() == 5);
  CHECK(rows[1][0] == "grey");
  CHECK(rows[1][1] == "0");
  CHECK(rows[2][1] == "0.5");
  CHECK(rows[2][2] == std::to_string(98));  // round(0.5 * 196) patches removed

  const std::string json = slurp(a.json);
  CHECK(json.find("\"study\": \"removal\"") != std::string::npos);
  CHECK(json.find("\"lmask_version\": \"") != std::string::npos);
  CHECK(json.find("\"seed\": 3") != std::string::npos);
  CHECK(json.find("KL(clean softmax || masked softmax)") != std::string::npos);
  CHECK(json.find("\"timings_s\": {") != std::string::npos);
  check_png(a.png);
  // Nothing but the three results and the report is left in the directory (no temporaries).
  CHECK(a.report == tmp.file("a") + "/index.html");
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(tmp.file("a"))) files += e.is_regular_file();
  CHECK(files == 4);
}

TEST_CASE("study: leakage: rolled masks are permutations, counts per condition, no object masks refused") {
  SUBCASE("roll_mask moves every position, keeps every value") {
    std::mt19937 rng(5);
    for (auto [h, w, dy, dx] : std::vector<std::array<int, 4>>{{7, 9, 3, 4}, {8, 8, 4, 4}, {5, 11, -2, 13}, {1, 6, 0, 3}}) {
      CAPTURE(h);
      CAPTURE(w);
      CAPTURE(dy);
      CAPTURE(dx);
      Tensor t({2, 1, h, w});
      for (std::size_t i = 0; i < t.numel(); ++i) t.data()[i] = rng() % 3 == 0 ? 1.f : 0.f;
      const Mask m(t), rolled = roll_mask(m, dy, dx);
      for (int n = 0; n < 2; ++n) {
        CHECK(rolled.count_visible(n) == m.count_visible(n));
        for (int y = 0; y < h; ++y)
          for (int x = 0; x < w; ++x)
            CHECK(rolled.tensor().at(n, 0, ((y + dy) % h + h) % h, ((x + dx) % w + w) % w) == m.tensor().at(n, 0, y, x));
      }
      CHECK(max_abs_diff(roll_mask(rolled, -dy, -dx).tensor(), m.tensor()) == 0.f);
    }
  }

  SUBCASE("a dataset without object masks is refused") {
    const PhotoSet photos(1, {0});
    StudySettings s;
    s.methods = {"grey"};
    CHECK(error_of<InputError>([&] { run_leakage(golden_model(), photos, s); }).find("without an object mask") !=
          std::string::npos);
  }

  SUBCASE("tiny Fashion-MNIST: one row per method and condition, chance in the JSON") {
    TempDir tmp("study_leakage");
    lmask::testing::write_tiny_fashion_mnist(tmp);
    StudyRun run = tiny_run(tmp, "leakage", "out");
    run.settings.methods = {"black", "layer"};
    const StudyOutputs out = run_study(run);
    const auto rows = csv_rows(slurp(out.csv));
    REQUIRE(rows.size() == 7);
    CHECK(rows[0] == std::vector<std::string>{"method", "condition", "images", "correct", "top1", "chance"});
    const std::vector<std::string> conditions = leakage_conditions();
    for (std::size_t i = 1; i < rows.size(); ++i) {
      CHECK(rows[i][0] == (i <= 3 ? "black" : "layer"));
      CHECK(rows[i][1] == conditions[(i - 1) % 3]);
      CHECK(rows[i][2] == "2");
      CHECK(std::stoi(rows[i][3]) <= 2);
      CHECK(rows[i][5] == "0.001000");
    }
    const std::string json = slurp(out.json);
    CHECK(json.find("\"chance\": 0.001") != std::string::npos);
    CHECK(json.find("\"conditions\": [\"object\", \"rolled\", \"mask-alone\"]") != std::string::npos);
    check_png(out.png);
  }
}

TEST_CASE("study: linearity: one row per method, bounded similarities, too few patches refused") {
  TempDir tmp("study_linearity");
  lmask::testing::write_tiny_fashion_mnist(tmp);
  StudyRun run = tiny_run(tmp, "linearity", "out");
  run.settings.methods = {"black", "layer"};
  const StudyOutputs out = run_study(run);
  const auto rows = csv_rows(slurp(out.csv));
  REQUIRE(rows.size() == 3);
  CHECK(rows[0] == std::vector<std::string>{"method", "images", "zero_feature_images", "cosine_sum", "mean_cosine",
                                            "rel_l2_sum", "mean_rel_l2"});
  for (std::size_t i = 1; i < rows.size(); ++i) {
    CAPTURE(rows[i][0]);
    CHECK(rows[i][1] == "2");
    CHECK(rows[i][2] == "0");
    const double cosine = std::stod(rows[i][4]), rel = std::stod(rows[i][6]);
    CHECK(cosine >= -1.0);
    CHECK(cosine <= 1.0 + 1e-9);
    CHECK(rel >= 0.0);
  }
  CHECK(slurp(out.json).find("\"visible_patches\": 4") != std::string::npos);
  check_png(out.png);

  const PhotoSet photos(1, {0});
  StudySettings s;
  s.methods = {"grey"};
  s.patch = 224;  // one patch per image
  CHECK(error_of<InputError>([&] { run_linearity(golden_model(), photos, s); }).find("linearity needs 4") !=
        std::string::npos);
}

namespace {

using lmask::testing::kSmallStudyImages;
using lmask::testing::log_softmax_by_hand;
using lmask::testing::small_study_model;

// The small study with all its images in one batch and 8 px patches (16 per
// image), so that the batched forwards done here are the study's own, bit for bit.
StudySettings one_batch_settings() {
  StudySettings s = lmask::testing::small_study_settings();
  s.batch = kSmallStudyImages;
  s.patch = 8;
  return s;
}

std::unique_ptr<Dataset> small_study_dataset() {
  return open_dataset(lmask::testing::small_study_files().dataset(), small_study_model().meta());
}

// Per image i of n, every patch removed but those keep(i) names, stacked [n,1,h,w].
template <class Keep>
Mask only_patches(int n, int h, int w, int patch, const Keep& keep) {
  std::vector<Mask> masks;
  for (int i = 0; i < n; ++i) {
    const std::vector<int> kept = keep(i);
    std::vector<int> removed;
    for (int id = 0; id < patch_count(h, w, patch); ++id)
      if (std::find(kept.begin(), kept.end(), id) == kept.end()) removed.push_back(id);
    masks.push_back(patch_mask(h, w, patch, removed));
  }
  return stack_masks(masks);
}

std::string fraction_text(double f) {
  std::ostringstream out;
  out << f;  // as the CSV writes it: 0, 0.5, 1
  return out.str();
}

}  // namespace

TEST_CASE("study: removal's hits, unchanged rate and mean KL are the ones computed here by hand") {
  const Model& model = small_study_model();
  const auto fmnist = small_study_dataset();
  const StudySettings s = one_batch_settings();
  const int n = kSmallStudyImages, classes = model.num_classes();
  const Batch b = load_batch(*fmnist, 0, n);
  const int h = b.images01.h(), w = b.images01.w(), patches = patch_count(h, w, s.patch);
  const Tensor clean = lmask::testing::clean_logits_by_hand(model, b.images01);
  // Images 0..2 labelled with their clean prediction, 3 and 4 with another class.
  std::vector<int> clean_top(n), labels(n);
  for (int i = 0; i < n; ++i) clean_top[i] = top_class(clean, i), labels[i] = i < 3 ? clean_top[i] : (clean_top[i] + 1) % classes;
  const std::string csv = removal_csv(run_removal(model, Relabelled(*fmnist, labels), s));

  double largest_mean_kl = 0;
  std::set<std::size_t> hit_counts;
  for (const std::string& name : s.methods) {
    const auto method = make_masking_method(name);
    for (double f : s.fractions) {
      CAPTURE(name);
      CAPTURE(f);
      // The first round(f * patches) patches of each image's order (seed + its index) removed.
      const int removed = static_cast<int>(std::lround(f * patches));
      const Mask m = only_patches(n, h, w, s.patch, [&](int i) {
        const std::vector<int> order = random_order(patches, s.seed + i);
        return std::vector<int>(order.begin() + removed, order.end());
      });
      const Tensor logits = method->logits(model, b.images01, m);
      std::size_t correct = 0, unchanged = 0;
      double kl = 0;  // KL(clean || masked) = sum_c p_c (log p_c - log q_c)
      for (int i = 0; i < n; ++i) {
        correct += top_class(logits, i) == labels[i];
        unchanged += top_class(logits, i) == clean_top[i];
        const std::vector<double> log_p = log_softmax_by_hand(clean, i), log_q = log_softmax_by_hand(logits, i);
        for (int c = 0; c < classes; ++c) kl += std::exp(log_p[c]) * (log_p[c] - log_q[c]);
      }
      const auto row = lmask::testing::csv_line(csv, name + "," + fraction_text(f) + ",");
      REQUIRE(row.size() == 11);
      CHECK(row[2] == std::to_string(removed));
      CHECK(row[4] == std::to_string(n));
      CHECK(row[5] == std::to_string(correct));
      CHECK(std::stod(row[6]) == doctest::Approx(double(correct) / n).epsilon(1e-9));
      CHECK(row[7] == std::to_string(unchanged));
      CHECK(std::stod(row[8]) == doctest::Approx(double(unchanged) / n).epsilon(1e-9));
      CHECK(std::stod(row[10]) == doctest::Approx(kl / n).epsilon(1e-7).scale(1e-9));
      largest_mean_kl = std::max(largest_mean_kl, kl / n);
      hit_counts.insert(correct);
    }
  }
  // The case can tell formulas apart only if the numbers differ between rows.
  CHECK(largest_mean_kl > 1e-3);
  CHECK(hit_counts.size() > 1);
}

TEST_CASE("study: leakage's top-1 per method and condition is the one computed here by hand") {
  const Model& model = small_study_model();
  const auto fmnist = small_study_dataset();
  const StudySettings s = one_batch_settings();
  const int n = kSmallStudyImages;
  const Batch b = load_batch(*fmnist, 0, n);
  const int h = b.images01.h(), w = b.images01.w();
  REQUIRE(b.objects.n() == n);
  // Visible where the object is not: as it is, rolled by half the image in
  // both axes (out(y, x) = in(y - h/2, x - w/2), cyclically), and the same
  // hole in an all-zero image.
  Tensor hole({n, 1, h, w}), rolled_hole({n, 1, h, w});
  for (int i = 0; i < n; ++i)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        hole.at(i, 0, y, x) = 1.f - b.objects.tensor().at(i, 0, y, x);
        rolled_hole.at(i, 0, y, x) = 1.f - b.objects.tensor().at(i, 0, (y + h - h / 2) % h, (x + w - w / 2) % w);
      }
  const Tensor blank({n, 3, h, w});
  const std::vector<std::pair<const Tensor*, Mask>> conditions = {
      {&b.images01, Mask(hole)}, {&b.images01, Mask(rolled_hole)}, {&blank, Mask(hole)}};
  const std::vector<std::string> names = {"object", "rolled", "mask-alone"};

  // predicted[m][k][i]: method m's top-1 for image i in condition k.
  std::vector<std::vector<std::vector<int>>> predicted;
  for (const std::string& name : s.methods) {
    predicted.emplace_back();
    for (const auto& [image, visible] : conditions) {
      const Tensor logits = make_masking_method(name)->logits(model, *image, visible);
      predicted.back().emplace_back();
      for (int i = 0; i < n; ++i) predicted.back().back().push_back(top_class(logits, i));
    }
  }
  // Image i labelled with the first method's prediction in condition i mod 3:
  // a hit there, and elsewhere wherever the prediction agrees.
  std::vector<int> labels(n);
  for (int i = 0; i < n; ++i) labels[i] = predicted[0][i % 3][i];
  const std::string csv = leakage_csv(run_leakage(model, Relabelled(*fmnist, labels), s));

  std::set<std::size_t> hit_counts;
  for (std::size_t m = 0; m < s.methods.size(); ++m)
    for (std::size_t k = 0; k < conditions.size(); ++k) {
      CAPTURE(s.methods[m]);
      CAPTURE(names[k]);
      std::size_t correct = 0;
      for (int i = 0; i < n; ++i) correct += predicted[m][k][i] == labels[i];
      const auto row = lmask::testing::csv_line(csv, s.methods[m] + "," + names[k] + ",");
      REQUIRE(row.size() == 6);
      CHECK(row[2] == std::to_string(n));
      CHECK(row[3] == std::to_string(correct));
      CHECK(std::stod(row[4]) == doctest::Approx(double(correct) / n).epsilon(1e-9));
      CHECK(std::stod(row[5]) == doctest::Approx(1.0 / model.num_classes()).epsilon(1e-6));
      hit_counts.insert(correct);
    }
  CHECK(hit_counts.size() > 1);  // else a swapped condition would go unnoticed
}

TEST_CASE("study: linearity's mean cosine and relative L2 are the ones computed here by hand") {
  const Model& model = small_study_model();
  const auto fmnist = small_study_dataset();
  const StudySettings s = one_batch_settings();
  const int n = kSmallStudyImages;
  const Batch b = load_batch(*fmnist, 0, n);
  const int h = b.images01.h(), w = b.images01.w(), patches = patch_count(h, w, s.patch);
  const LinearityResult r = run_linearity(model, *fmnist, s);
  const std::string csv = linearity_csv(r);

  // The first four patches of each image's order (seed + its index).
  std::vector<std::vector<int>> four;
  for (int i = 0; i < n; ++i) {
    four.push_back(random_order(patches, s.seed + i));
    four.back().resize(kLinearityPatches);
  }
  for (std::size_t m = 0; m < s.methods.size(); ++m) {
    CAPTURE(s.methods[m]);
    const auto method = make_masking_method(s.methods[m]);
    // f_v: only patch v of the four visible; f_all: all four.
    std::vector<Tensor> single;
    for (int v = 0; v < kLinearityPatches; ++v)
      single.push_back(method->features(model, b.images01, only_patches(n, h, w, s.patch, [&](int i) {
        return std::vector<int>{four[i][v]};
      })));
    const Tensor all =
        method->features(model, b.images01, only_patches(n, h, w, s.patch, [&](int i) { return four[i]; }));
    double cosine_sum = 0, rel_l2_sum = 0;
    std::size_t zero = 0;  // images whose f_all is the zero vector: no relative distance, left out
    for (int i = 0; i < n; ++i) {
      // cos(sum_v f_v, f_all) and |sum_v f_v - f_all| / |f_all|.
      double dot = 0, sum_norm2 = 0, all_norm2 = 0, diff_norm2 = 0;
      for (int k = 0; k < all.c(); ++k) {
        double sum = 0;
        for (const Tensor& f : single) sum += f.image(i)[k];
        const double a = all.image(i)[k];
        dot += sum * a, sum_norm2 += sum * sum, all_norm2 += a * a, diff_norm2 += (sum - a) * (sum - a);
      }
      if (all_norm2 == 0) {
        zero += 1;
        continue;
      }
      REQUIRE(sum_norm2 > 0);  // f_all != 0 while every f_v == 0 would need a case of its own
      cosine_sum += dot / std::sqrt(sum_norm2) / std::sqrt(all_norm2);
      rel_l2_sum += std::sqrt(diff_norm2) / std::sqrt(all_norm2);
    }
    REQUIRE(zero < std::size_t(n));  // layer masking: some images are left out (3 of 5), never all
    CHECK(r.rows[m].cosine_sum.value() == doctest::Approx(cosine_sum).epsilon(1e-12));
    CHECK(r.rows[m].rel_l2_sum.value() == doctest::Approx(rel_l2_sum).epsilon(1e-12));
    const auto row = lmask::testing::csv_line(csv, s.methods[m] + ",");
    REQUIRE(row.size() == 7);
    CHECK(row[1] == std::to_string(n));
    CHECK(row[2] == std::to_string(zero));
    CHECK(std::stod(row[4]) == doctest::Approx(cosine_sum / double(n - zero)).epsilon(1e-6));
    CHECK(std::stod(row[6]) == doctest::Approx(rel_l2_sum / double(n - zero)).epsilon(1e-6));
  }
}

TEST_CASE("study: bad input is refused before any work, in one line") {
  TempDir tmp("study_bad");
  std::ofstream(tmp.file("plain_file")) << "x";
  StudyRun run;
  run.study = "removal";
  run.weights = tmp.file("no_such_weights.h5");  // never reached: the checks come first
  run.dataset = "fmnist:test";
  run.out_dir = tmp.file("plain_file") + "/sub";
  const std::string bad_dir = error_of<InputError>([&] { run_study(run); });
  CHECK(bad_dir.rfind(run.out_dir + ": ", 0) == 0);
  CHECK(bad_dir.find('\n') == std::string::npos);

  run.out_dir = tmp.file("plain_file");
  CHECK(error_of<InputError>([&] { run_study(run); }).find("not a directory") != std::string::npos);

  run.out_dir = tmp.file("out");
  run.settings.methods = {"grey", "sepia"};
  CHECK(error_of<InputError>([&] { run_study(run); }).find("unknown masking method 'sepia'") != std::string::npos);
  run.settings.methods = {"grey", "grey"};
  CHECK(error_of<InputError>([&] { run_study(run); }).find("listed twice") != std::string::npos);
  run.settings.methods = {"grey"};
  run.study = "everything";
  CHECK(error_of<InputError>([&] { run_study(run); }).find("unknown study") != std::string::npos);
  run.study = "removal";
  CHECK(error_of<InputError>([&] { run_study(run); }).find("no_such_weights.h5") != std::string::npos);
}

TEST_CASE("study: write_text_atomically replaces whole files and leaves no temporaries") {
  TempDir tmp("study_atomic");
  const std::string path = tmp.file("table.csv");
  write_text_atomically(path, "a,b\n1,2\n");
  CHECK(slurp(path) == "a,b\n1,2\n");
  write_text_atomically(path, "new\n");
  CHECK(slurp(path) == "new\n");
  std::size_t entries = 0;
  for (const auto& e : fs::directory_iterator(tmp.path)) {
    entries += 1;
    CHECK(e.path().filename() == "table.csv");
  }
  CHECK(entries == 1);
  const std::string missing = tmp.file("no_dir") + "/x.csv";
  CHECK(error_of<InputError>([&] { write_text_atomically(missing, "x"); }).rfind(missing + ": cannot create", 0) == 0);
}

TEST_CASE("study: plotter draws text, charts and refuses what it cannot draw") {
  SUBCASE("glyphs and text") {
    for (int c = 33; c < 127; ++c) {
      CAPTURE(char(c));
      const auto& g = glyph(char(c));
      CHECK(std::any_of(g.begin(), g.end(), [](std::uint8_t row) { return row != 0; }));
      CHECK(std::all_of(g.begin(), g.end(), [](std::uint8_t row) { return row < 32; }));
    }
    const auto& space = glyph(' ');
    CHECK(std::all_of(space.begin(), space.end(), [](std::uint8_t row) { return row == 0; }));
    CHECK(glyph('\x01') == glyph('\x7f'));  // both the box, which is not blank
    CHECK(glyph('\x01')[0] == 0x1F);
    CHECK(glyph('0') != glyph('O'));
    // g, p, y descend below the baseline (rows 7-8); capitals and digits never do.
    for (char c : std::string("gjpqy,;")) CHECK((glyph(c)[7] | glyph(c)[8]) != 0);
    for (char c : std::string("AZaz09.")) CHECK((glyph(c)[7] | glyph(c)[8]) == 0);
    CHECK(text_width("abc", 2) == (3 * kGlyphAdvance - 1) * 2);

    Canvas blank(80, 20), canvas(80, 20);
    CHECK(canvas.text(2, 2, "Hi 0.5", Rgb{0, 0, 0}, 2) == text_width("Hi 0.5", 2));
    const std::size_t inked = count_differing_pixels(blank.image(), canvas.image());
    CHECK(inked > 50);
    // Everything drawn stays inside the text's box.
    for (int y = 0; y < 20; ++y)
      for (int x = 0; x < 80; ++x)
        if (canvas.image().pixel(x, y)[0] == 0) {
          CHECK(x >= 2);
          CHECK(x < 2 + text_width("Hi 0.5", 2));
          CHECK(y >= 2);
          CHECK(y < 2 + 2 * kGlyphHeight);
        }
    Canvas clipped(10, 10);
    clipped.line(-20, 5, 30, 5, Rgb{255, 0, 0}, 3);  // off both edges: clipped, not refused
    clipped.text(8, 8, "WWW", Rgb{0, 0, 0});
    CHECK(clipped.image().pixel(0, 5)[1] == 0);
    CHECK(error_of<std::invalid_argument>([] { Canvas(0, 10); }).find("canvas size") != std::string::npos);
    CHECK(error_of<std::invalid_argument>([&] { canvas.text(0, 0, "x", Rgb{}, 0); }).find("scale") != std::string::npos);
  }

  SUBCASE("series colours are distinct") {
    for (std::size_t i = 0; i < 30; ++i)
      for (std::size_t j = 0; j < i; ++j) {
        const Rgb a = series_colour(i), b = series_colour(j);
        CHECK(std::abs(a.r - b.r) + std::abs(a.g - b.g) + std::abs(a.b - b.b) > 20);
      }
  }

  SUBCASE("line chart") {
    LineChart chart;
    chart.title = "accuracy";
    chart.x_label = "fraction";
    chart.y_label = "top-1";
    chart.y_min = 0, chart.y_max = 1;
    chart.series = {{"grey", {0, 0.5, 1}, {1, 0.4, 0.1}}, {"layer", {0, 0.5, 1}, {1, 0.8, 0.6}}};
    const ImageU8 img = draw_line_chart(chart);
    CHECK(img.width >= 600);
    CHECK(img.height >= 400);
    // Both series' colours appear.
    for (std::size_t s = 0; s < 2; ++s) {
      const Rgb c = series_colour(s);
      bool found = false;
      for (int y = 0; y < img.height && !found; ++y)
        for (int x = 0; x < img.width && !found; ++x) {
          const std::uint8_t* p = img.pixel(x, y);
          found = p[0] == c.r && p[1] == c.g && p[2] == c.b;
        }
      CHECK(found);
    }
    TempDir tmp("study_plot");
    write_png(tmp.file("line.png"), img);
    const ImageU8 back = read_image(tmp.file("line.png"));
    CHECK(back.rgb == img.rgb);

    LineChart bad = chart;
    bad.series[1].y.pop_back();
    CHECK(error_of<std::invalid_argument>([&] { draw_line_chart(bad); }).find("'layer' has 3 x and 2 y") !=
          std::string::npos);
    bad = chart;
    bad.series[0].y[1] = std::numeric_limits<double>::quiet_NaN();
    CHECK(error_of<std::invalid_argument>([&] { draw_line_chart(bad); }).find("nan") != std::string::npos);
    bad = chart;
    bad.series[0].y[1] = 1.5;
    CHECK(error_of<std::invalid_argument>([&] { draw_line_chart(bad); }).find("outside the fixed y range") !=
          std::string::npos);
    bad.series.clear();
    CHECK(error_of<std::invalid_argument>([&] { draw_line_chart(bad); }).find("no series") != std::string::npos);
    bad = chart;
    bad.y_min = bad.y_max = 0;  // range from the data instead
    bad.series[0].y[1] = -2.5;
    CHECK(draw_line_chart(bad).width > 0);
  }

  SUBCASE("bar chart") {
    BarChart chart;
    chart.title = "leakage";
    chart.y_label = "top-1";
    chart.groups = {"black", "grey", "layer-renorm"};
    chart.series = {"object", "rolled", "mask-alone"};
    chart.values = {{0.5, 0.2, 0.4}, {0.6, 0.1, 0.5}, {0.2, 0.15, 0.1}};
    chart.reference = 0.1;
    chart.reference_label = "chance 1/10";
    const ImageU8 img = draw_bar_chart(chart);
    CHECK(img.width >= 400);
    CHECK(img.height >= 300);

    BarChart bad = chart;
    bad.values.pop_back();
    CHECK(error_of<std::invalid_argument>([&] { draw_bar_chart(bad); }).find("2 rows of values for 3 groups") !=
          std::string::npos);
    bad = chart;
    bad.values[1].push_back(0.3);
    CHECK(error_of<std::invalid_argument>([&] { draw_bar_chart(bad); }).find("group 'grey' has 4 values") !=
          std::string::npos);
    bad = chart;
    bad.values[2][0] = std::numeric_limits<double>::infinity();
    CHECK(error_of<std::invalid_argument>([&] { draw_bar_chart(bad); }).find("'layer-renorm', 'object'") !=
          std::string::npos);
    bad = chart;
    bad.reference = -std::numeric_limits<double>::infinity();
    CHECK(error_of<std::invalid_argument>([&] { draw_bar_chart(bad); }).find("reference") != std::string::npos);
    bad = chart;
    bad.groups.clear(), bad.values.clear();
    CHECK(error_of<std::invalid_argument>([&] { draw_bar_chart(bad); }).find("at least one group") !=
          std::string::npos);
  }
}

TEST_CASE("study: the CLI writes three files and names them, a bad --out is one error line") {
  TempDir tmp("study_cli");
  lmask::testing::write_tiny_fashion_mnist(tmp);
  auto cli = [&](const std::string& args, std::string& out, std::string& err) {
    const std::string cmd = "OMP_NUM_THREADS=1 " + std::string(LMASK_CLI) + " study " + args + " --weights '" +
                            golden_path("resnet50_random.h5") + "' --dataset 'fmnist:test:" + tmp.path.string() +
                            "' >" + tmp.file("stdout") + " 2>" + tmp.file("stderr");
    const int raw = std::system(cmd.c_str());
    out = slurp(tmp.file("stdout")), err = slurp(tmp.file("stderr"));
    return WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  };
  std::string out, err;
  const std::string dir = tmp.file("results");
  CHECK(cli("removal --methods layer --fractions 0,1 --limit 2 --seed 1 --out '" + dir + "'", out, err) == 0);
  CAPTURE(err);
  CHECK(out == dir + "/removal.csv\n" + dir + "/removal.png\n" + dir + "/removal.json\n" + dir + "/index.html\n");
  CHECK(csv_rows(slurp(dir + "/removal.csv")).size() == 3);
  check_png(dir + "/removal.png");

  CHECK(cli("leakage --out /dev/null/results", out, err) == 2);
  CHECK(err.rfind("lmask: error: /dev/null/results: ", 0) == 0);
  CHECK(std::count(err.begin(), err.end(), '\n') == 1);
  CHECK(cli("removal --fractions 0,x --out '" + dir + "'", out, err) == 2);
  CHECK(err.find("--fractions: 'x' is not a number") != std::string::npos);
}
