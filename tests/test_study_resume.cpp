// test_study_resume.cpp — what makes a study's numbers trustworthy when the
// run is not a clean one: interrupted and resumed (--resume), with an
// unreadable image skipped (--on-bad-file skip), and with another thread
// count. Each must leave the CSV exactly as a clean run writes it (or, for
// skip, as a run without that image would). Run on the golden random
// ResNet-50 at 32 px and a five-image Fashion-MNIST (small_study.h); the
// thread counts also at 64 px.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "lmask/dataset.h"
#include "lmask/error.h"
#include "lmask/study.h"
#include "small_input_weights.h"
#include "small_study.h"
#include "temp_dir.h"

using namespace lmask;
using lmask::testing::TempDir;
namespace fs = std::filesystem;

using lmask::testing::slurp;

namespace {

constexpr int kImages = lmask::testing::kSmallStudyImages;


// The small study's files, with its network and dataset loaded.
struct Fixture {
  std::string weights = lmask::testing::small_study_files().weights;
  const Model* model = &lmask::testing::small_study_model();
  std::unique_ptr<Dataset> data = open_dataset(dataset(), model->meta());
  std::string dataset() const { return lmask::testing::small_study_files().dataset(); }
};
const Fixture& fixture() {
  static const Fixture f;
  return f;
}

// The inner dataset, counting the images read (a resumed run must not
// read the images of its finished batches again), with some made unreadable.
class Watched final : public Dataset {
 public:
  explicit Watched(const Dataset& inner, std::vector<std::size_t> bad = {}) : inner_(inner), bad_(std::move(bad)) {}
  std::size_t size() const override { return inner_.size(); }
  Sample get(std::size_t i) const override {
    reads.push_back(i);
    for (std::size_t b : bad_)
      if (b == i) throw InputError("image#" + std::to_string(i), "unreadable (test)");
    return inner_.get(i);
  }
  const std::vector<std::string>& class_names() const override { return inner_.class_names(); }
  std::string description() const override { return inner_.description(); }
  mutable std::vector<std::size_t> reads;

 private:
  const Dataset& inner_;
  std::vector<std::size_t> bad_;
};

// The checkpoint in memory, as PartialFile keeps it on disk.
struct MemoryCheckpoint final : StudyCheckpoint {
  std::string state;
  int saves = 0;
  std::string load() override { return state; }
  void save(const std::string& s) override { state = s, ++saves; }
  std::string name() const override { return "memory"; }
};

// Ctrl-C, as a test can have it: an exception from inside the study once
// `limit` steps of progress were reported.
struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("interrupted") {}
};
struct InterruptingProgress final : StudyProgress {
  std::size_t limit, done = 0, first_advance = 0;
  bool first = true;
  std::vector<std::string> skips;
  explicit InterruptingProgress(std::size_t l) : limit(l) {}
  void begin(const std::string&, std::size_t) override {}
  void advance(std::size_t n) override {
    if (first) first_advance = n, first = false;
    done += n;
    if (done >= limit) throw Interrupted();
  }
  void end() override {}
  void skipped(const std::string& problem) override { skips.push_back(problem); }
};


}  // namespace

TEST_CASE("study resume: every study, interrupted after its first batch and resumed, gives the clean run's CSV") {
  const Fixture& f = fixture();
  const StudySettings s = lmask::testing::small_study_settings();
  // Steps per image: removal 1 + 2 methods x 3 fractions; leakage 1 + 2 x 3
  // conditions; linearity 1 + 2 x 5 views; lime 1 + 2 x (8 samples + 5 ks).
  struct Case {
    const char* study;
    std::size_t per_image, batch_images;
  };
  for (const Case c : {Case{"removal", 7, 2}, Case{"leakage", 7, 2}, Case{"linearity", 11, 2}, Case{"lime", 27, 1}}) {
    CAPTURE(c.study);
    auto run = [&](const Dataset& data, StudyProgress* progress, StudyCheckpoint* checkpoint) -> std::string {
      const std::string study = c.study;
      if (study == "removal") return removal_csv(run_removal(*f.model, data, s, progress, checkpoint));
      if (study == "leakage") return leakage_csv(run_leakage(*f.model, data, s, progress, checkpoint));
      if (study == "linearity") return linearity_csv(run_linearity(*f.model, data, s, progress, checkpoint));
      return lime_csv(run_lime(*f.model, data, s, progress, checkpoint));
    };
    const std::string clean = run(*f.data, nullptr, nullptr);

    // Interrupted one step into the second batch: the first batch is saved.
    MemoryCheckpoint checkpoint;
    Watched first_try(*f.data);
    InterruptingProgress interrupt(c.per_image * c.batch_images + 1);
    CHECK_THROWS_AS(run(first_try, &interrupt, &checkpoint), Interrupted);
    CHECK(checkpoint.saves == 1);

    Watched second_try(*f.data);
    InterruptingProgress no_interrupt(std::size_t(-1));
    CHECK(run(second_try, &no_interrupt, &checkpoint) == clean);
    // It went on from the second batch: the bar jumps over the first, and
    // no image of the first batch is read again (lime's example images are
    // re-read for their picture at the end, nothing else).
    CHECK(no_interrupt.first_advance == c.per_image * c.batch_images);
    CHECK(no_interrupt.done == c.per_image * kImages);
    REQUIRE(!second_try.reads.empty());
    CHECK(second_try.reads[0] == c.batch_images);
    const std::size_t rereads = std::string(c.study) == "lime" ? c.batch_images : 0;
    CHECK(second_try.reads.size() == kImages - c.batch_images + rereads);
  }
}

TEST_CASE("study resume: lime's example pictures survive the resume, PNGs and CSVs match the clean run") {
  TempDir tmp("study_resume");
  const StudyRun clean_run = lmask::testing::small_study_run("lime", tmp.file("clean"));
  const StudyOutputs clean = run_study(clean_run);

  StudyRun interrupted = clean_run;
  interrupted.out_dir = tmp.file("resumed");
  InterruptingProgress interrupt(27 * 3 + 1);  // in image 3: images 0..2 are saved
  CHECK_THROWS_AS(run_study(interrupted, &interrupt), Interrupted);
  CHECK(fs::exists(partial_path(interrupted)));
  CHECK_FALSE(fs::exists(tmp.file("resumed") + "/lime.csv"));

  interrupted.resume = true;
  const StudyOutputs resumed = run_study(interrupted);
  CHECK(slurp(resumed.csv) == slurp(clean.csv));
  CHECK(slurp(resumed.png) == slurp(clean.png));
  CHECK_FALSE(fs::exists(partial_path(interrupted)));  // removed once the results are written
}

TEST_CASE("study resume: a partial file of other settings, or a damaged one, is refused in one line") {
  TempDir tmp("study_resume");
  StudyRun run = lmask::testing::small_study_run("removal", tmp.file("out"));
  InterruptingProgress interrupt(7 * 2 + 1);
  CHECK_THROWS_AS(run_study(run, &interrupt), Interrupted);
  REQUIRE(fs::exists(partial_path(run)));

  auto error_of = [](const StudyRun& r) -> std::string {
    try {
      run_study(r);
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  };
  StudyRun other_seed = run;
  other_seed.resume = true;
  other_seed.settings.seed = 12;
  const std::string mismatch = error_of(other_seed);
  CHECK(mismatch.rfind(partial_path(run) + ": was written by a run with other settings", 0) == 0);
  CHECK(mismatch.find('\n') == std::string::npos);

  const std::string saved = slurp(partial_path(run));
  std::ofstream(partial_path(run), std::ios::binary) << saved.substr(0, saved.size() - 10);
  StudyRun resumed = run;
  resumed.resume = true;
  const std::string damaged = error_of(resumed);
  CAPTURE(damaged);
  CHECK(damaged.rfind(partial_path(run) + ": partial state", 0) == 0);

  // Without --resume an old partial file is simply replaced.
  CHECK_NOTHROW(run_study(run));
  CHECK_FALSE(fs::exists(partial_path(run)));
}

TEST_CASE("study skip: an unreadable image is left out, reported and counted, the others keep their patch orders") {
  const Fixture& f = fixture();
  StudySettings s = lmask::testing::small_study_settings();
  Watched with_bad(*f.data, {2});
  InterruptingProgress stop_progress(std::size_t(-1));
  CHECK_THROWS_AS(run_removal(*f.model, with_bad, s, &stop_progress), InputError);  // the default: stop

  s.on_bad_file = BadFilePolicy::skip;
  InterruptingProgress progress(std::size_t(-1));
  const RemovalResult r = run_removal(*f.model, with_bad, s, &progress);
  CHECK(r.common.images == kImages - 1);
  CHECK(r.common.skipped == 1);
  CHECK(progress.done == 7u * kImages);  // the bar still reaches its end
  REQUIRE(progress.skips.size() == 1);
  CHECK(progress.skips[0] == "image#2: unreadable (test)");
  for (const RemovalRow& row : r.rows) CHECK(row.images == kImages - 1);

  // Each image keeps its own patch order (seed + its index) whoever is
  // skipped: the run without image 2 adds up the runs of {0,1} and {3,4}.
  const RemovalResult front = run_removal(*f.model, Watched(*f.data, {2, 3, 4}), s);
  const RemovalResult back = run_removal(*f.model, Watched(*f.data, {0, 1, 2}), s);
  for (std::size_t k = 0; k < r.rows.size(); ++k) {
    CAPTURE(k);
    CHECK(r.rows[k].correct == front.rows[k].correct + back.rows[k].correct);
    CHECK(r.rows[k].unchanged == front.rows[k].unchanged + back.rows[k].unchanged);
    CHECK(r.rows[k].kl_sum == doctest::Approx(front.rows[k].kl_sum + back.rows[k].kl_sum).epsilon(1e-9));
  }
}

namespace {

// `lmask study` on the small study's images with these weights and
// arguments, with 1 and then 2 threads: both runs must write the same CSV,
// byte for byte, for every study.
struct ThreadCase {
  std::string study, extra;
};
void check_thread_counts_agree(const std::string& weights, const std::string& tag, const std::vector<ThreadCase>& cases) {
  TempDir tmp("study_threads");
  auto csv_with = [&](const ThreadCase& c, int threads) {
    const std::string dir = tmp.file(c.study + "_" + tag + "_" + std::to_string(threads));
    // Passive waiting: CTest runs another test beside this one, and spinning
    // OpenMP threads on an oversubscribed machine are many times slower.
    const std::string cmd = "OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=" + std::to_string(threads) + " " +
                            std::string(LMASK_CLI) + " study " + c.study + " --weights '" + weights +
                            "' --dataset '" + fixture().dataset() + "' --seed 5 --batch 3 --out '" + dir + "' " +
                            c.extra + " >/dev/null 2>" + tmp.file("stderr");
    const int raw = std::system(cmd.c_str());
    CAPTURE(slurp(tmp.file("stderr")));
    REQUIRE((WIFEXITED(raw) && WEXITSTATUS(raw) == 0));
    return slurp(dir + "/" + c.study + ".csv");
  };
  for (const ThreadCase& c : cases) {
    CAPTURE(c.study);
    const std::string one = csv_with(c, 1);
    CHECK(one.size() > 100);
    CHECK(one == csv_with(c, 2));
  }
}

}  // namespace

TEST_CASE("study determinism: every study gives byte-identical CSVs with 1 and 2 threads, at 32 px") {
  check_thread_counts_agree(fixture().weights, "32px",
                            {{"removal", "--methods grey,blur,layer,layer-renorm --fractions 0,0.3,1"},
                             {"leakage", "--methods grey,layer"},
                             {"linearity", "--methods grey,layer --patches 8"},
                             {"lime", "--methods grey,layer --samples 16 --limit 2"}});
}

TEST_CASE("study determinism: every study gives byte-identical CSVs with 1 and 2 threads, at 64 px") {
  // The shipped model's input size: larger products for the threads to split
  // than at 32 px. The golden weights again, since the shipped file takes
  // seconds to load and each run loads it.
  const TempDir weights_dir("study_threads_64px");
  check_thread_counts_agree(lmask::testing::small_input_weights(weights_dir, 64), "64px",
                            {{"removal", "--methods grey,layer --fractions 0,0.5 --limit 3"},
                             {"leakage", "--methods grey,layer --limit 3"},
                             {"linearity", "--methods grey,layer --limit 3"},
                             {"lime", "--methods grey,layer --samples 8 --limit 1"}});
}

TEST_CASE("study CLI: --resume and --on-bad-file skip reach the study") {
  const Fixture& f = fixture();
  TempDir tmp("study_cli_flags");
  fs::create_directories(tmp.path / "root" / "a");
  fs::copy_file(std::string(LMASK_SOURCE_DIR) + "/data/fmnist-test-0.png", tmp.file("root/a/0.png"));
  std::ofstream(tmp.file("root/a/1.png")) << "not a picture";
  fs::copy_file(std::string(LMASK_SOURCE_DIR) + "/data/fmnist-test-1.png", tmp.file("root/a/2.png"));
  auto study = [&](const std::string& args) {
    const std::string cmd = "OMP_NUM_THREADS=1 " + std::string(LMASK_CLI) + " study removal --weights '" + f.weights +
                            "' --dataset 'folder:" + tmp.file("root") + "' --methods layer --fractions 0,1 --out '" +
                            tmp.file("out") + "' " + args + " >/dev/null 2>" + tmp.file("stderr");
    const int raw = std::system(cmd.c_str());
    return WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  };
  CHECK(study("") == 2);  // the default: stop at the unreadable file
  CHECK(slurp(tmp.file("stderr")).rfind("lmask: error: " + tmp.file("root/a/1.png") + ": ", 0) == 0);
  // Nothing to resume yet: --resume simply runs from the first image.
  REQUIRE(study("--on-bad-file skip --resume") == 0);
  const std::string err = slurp(tmp.file("stderr"));
  CHECK(err.find("lmask: warning: " + tmp.file("root/a/1.png") + ": ") != std::string::npos);
  const std::string json = slurp(tmp.file("out/removal.json"));
  CHECK(json.find("\"images\": 2") != std::string::npos);
  CHECK(json.find("\"skipped_images\": 1") != std::string::npos);
  CHECK(json.find("\"on_bad_file\": \"skip\"") != std::string::npos);
}
