// test_shard.cpp — a study run in pieces must be the study run whole: the
// exact sums that make that possible, shards merged by `lmask merge` and
// by `mpirun -np 2` against the single-process run's CSV and PNG byte for
// byte, a merge that refuses shards that do not belong together, and a
// shard that died finished by --resume without redoing the others. On the
// golden random ResNet-50 at 32 px and five Fashion-MNIST images written
// here (batches of 2: [0,1] [2,3] [4]).
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "error_of.h"
#include "lmask/dataset.h"
#include "lmask/error.h"
#include "lmask/exact_sum.h"
#include "lmask/study.h"
#include "skip_test.h"
#include "small_study.h"
#include "study_file_text.h"
#include "temp_dir.h"

using namespace lmask;
using lmask::testing::TempDir;
namespace fs = std::filesystem;

using lmask::testing::slurp;
using lmask::testing::error_of;

namespace {

constexpr int kImages = lmask::testing::kSmallStudyImages;
using Fixture = lmask::testing::SmallStudyFiles;
const Fixture& fixture() { return lmask::testing::small_study_files(); }

StudyRun small_run(const std::string& study, const std::string& out_dir) {
  StudyRun run = lmask::testing::small_study_run(study, out_dir);
  run.settings.patch = 8;  // 16 patches: at the default 2 px, layer masking's linearity features vanish
  return run;
}

StudyRun shard_of(StudyRun run, int index, int count) {
  run.settings.shard = {index, count};
  return run;
}

// Counts what the study reports; can stop it after `limit` steps (a rank
// that dies: an exception from inside the study).
struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("interrupted") {}
};
struct CountingProgress final : StudyProgress {
  std::size_t limit, done = 0, begins = 0, first_advance = 0;
  explicit CountingProgress(std::size_t l = std::size_t(-1)) : limit(l) {}
  void begin(const std::string&, std::size_t) override { ++begins; }
  void advance(std::size_t n) override {
    if (done == 0) first_advance = n;
    done += n;
    if (done >= limit) throw Interrupted();
  }
  void end() override {}
};

int shell(const std::string& cmd) {
  const int raw = std::system(cmd.c_str());
  return WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
}

}  // namespace

TEST_CASE("exact sum: the value is the correctly rounded exact sum, whatever the order and grouping") {
  ExactSum cancel;
  for (double v : {1e16, 1.0, -1e16}) cancel += v;
  CHECK(cancel.value() == 1.0);  // a plain double sum gives 0
  CHECK((0.1 + 0.2) + 0.3 != 0.1 + (0.2 + 0.3));
  ExactSum a, b;
  a += 0.1, a += 0.2, a += 0.3;
  b += 0.3, b += 0.2, b += 0.1;
  CHECK(a.value() == b.value());
  CHECK(a.value() == 0.6);  // the double nearest 0.1 + 0.2 + 0.3 as doubles, exactly

  // Many values of mixed signs and scales, summed in order, reversed, and
  // as three groups added together: one value, bit for bit.
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> mantissa(-1, 1);
  std::uniform_int_distribution<int> exponent(-30, 30);
  std::vector<double> values(3000);
  for (double& v : values) v = std::ldexp(mantissa(rng), exponent(rng));
  ExactSum forward, backward, grouped, part[3];
  for (double v : values) forward += v;
  for (auto it = values.rbegin(); it != values.rend(); ++it) backward += *it;
  for (std::size_t i = 0; i < values.size(); ++i) part[i * 3 / values.size()] += values[i];
  grouped += part[2], grouped += part[0], grouped += part[1];
  CHECK(forward.value() == backward.value());
  CHECK(forward.value() == grouped.value());
  double naive = 0;
  for (double v : values) naive += v;
  CHECK(forward.value() == doctest::Approx(naive).epsilon(1e-9));

  // Saved and restored, it is the same sum; inf and NaN are kept apart.
  const ExactSum restored = ExactSum::from_parts(forward.parts(), forward.non_finite());
  CHECK(restored.value() == forward.value());
  ExactSum inf = forward;
  inf += std::numeric_limits<double>::infinity();
  CHECK(std::isinf(inf.value()));
  inf += -std::numeric_limits<double>::infinity();
  CHECK(std::isnan(inf.value()));
  CHECK(ExactSum().value() == 0.0);
}

TEST_CASE("shard: the images are dealt out in whole batches, every image once, sums adding up exactly") {
  const Fixture& f = fixture();
  const Model model = Model::load(f.weights);
  const auto data = open_dataset(f.dataset(), model.meta());
  const StudySettings whole_settings = small_run("removal", "").settings;
  const RemovalResult whole = run_removal(model, *data, whole_settings);
  REQUIRE(whole.common.images == std::size_t(kImages));
  // Three batches [0,1] [2,3] [4] over n shards: shard i gets batches [i*3/n, (i+1)*3/n).
  const std::vector<std::pair<int, std::vector<std::size_t>>> cases = {
      {1, {5}}, {2, {2, 3}}, {4, {0, 2, 2, 1}}, {5, {0, 2, 0, 2, 1}}};
  for (const auto& [n, images] : cases) {
    CAPTURE(n);
    std::vector<ExactSum> kl(whole.rows.size());
    std::vector<std::size_t> correct(whole.rows.size());
    for (int i = 0; i < n; ++i) {
      StudySettings s = whole_settings;
      s.shard = {i, n};
      const RemovalResult part = run_removal(model, *data, s);
      CHECK(part.common.images == images[i]);
      for (std::size_t k = 0; k < part.rows.size(); ++k) kl[k] += part.rows[k].kl_sum, correct[k] += part.rows[k].correct;
    }
    for (std::size_t k = 0; k < whole.rows.size(); ++k) {
      CHECK(kl[k].value() == whole.rows[k].kl_sum.value());  // bit for bit, not approximately
      CHECK(correct[k] == whole.rows[k].correct);
    }
  }
  StudySettings bad = whole_settings;
  bad.shard = {2, 2};
  CHECK(error_of([&] { run_removal(model, *data, bad); }).rfind("--shard: ", 0) == 0);
  CHECK(parse_shard("3/8").index == 3);
  CHECK(parse_shard("3/8").count == 8);
  for (const char* text : {"8/8", "x/2", "1", "-1/2", "1/0", ""}) {
    CAPTURE(text);
    CHECK(error_of([&] { parse_shard(text); }).rfind("--shard: ", 0) == 0);
  }
}

TEST_CASE("shard: every study's shards, merged, write the single-process run's CSV and PNG byte for byte") {
  TempDir tmp("shard_merge");
  for (const std::string study : {"removal", "leakage", "linearity", "lime"}) {
    CAPTURE(study);
    const StudyOutputs whole = run_study(small_run(study, tmp.file(study + "_whole")));
    const std::string csv = slurp(whole.csv);
    REQUIRE(csv.size() > 50);
    // Three shards for every study (one batch each, or for lime's one-image
    // units 1, 2 and 2 images), two for removal.
    for (int n : study == "removal" ? std::vector<int>{2, 3} : std::vector<int>{3}) {
      CAPTURE(n);
      // Each shard in a directory of its own, as job-array tasks might leave them.
      std::vector<std::string> dirs;
      for (int i = 0; i < n; ++i) {
        dirs.push_back(tmp.file(study + "_" + std::to_string(n) + "_" + std::to_string(i)));
        const std::string path = run_study_shard(shard_of(small_run(study, dirs.back()), i, n));
        CHECK(path == dirs.back() + "/" + study + ".shard-" + std::to_string(i) + "-of-" + std::to_string(n));
        CHECK(slurp(path).rfind("lmask-study-shard 2\n", 0) == 0);
        CHECK_FALSE(fs::exists(partial_path(shard_of(small_run(study, dirs.back()), i, n))));
      }
      const std::string out = tmp.file(study + "_" + std::to_string(n) + "_merged");
      const std::vector<StudyOutputs> merged = merge_shard_dirs(dirs, out);
      REQUIRE(merged.size() == 1);
      CHECK(slurp(merged[0].csv) == csv);
      CHECK(slurp(merged[0].png) == slurp(whole.png));
      CHECK(slurp(merged[0].json).find("\"shards\": " + std::to_string(n)) != std::string::npos);
      CHECK(fs::exists(out + "/index.html"));
    }
  }
}

TEST_CASE("shard: merge refuses shards that are missing, repeated, of another run, damaged, or stale, in one line") {
  TempDir tmp("shard_refuse");
  // A weights file of this test's own: its modification time changes below.
  const std::string weights = tmp.file("weights.h5");
  fs::copy_file(fixture().weights, weights);
  auto run = [&](const std::string& dir, int i, int n, std::uint64_t seed = 11) {
    StudyRun r = shard_of(small_run("removal", tmp.file(dir)), i, n);
    r.weights = weights;
    r.settings.seed = seed;
    r.settings.methods = {"layer"};
    return run_study_shard(r);
  };
  const std::string s0 = run("a", 0, 2), s1 = run("b", 1, 2);
  auto merge_error = [&](const std::vector<std::string>& dirs) {
    const std::string e = error_of([&] { merge_shard_dirs(dirs, tmp.file("out")); });
    CHECK(e.find('\n') == std::string::npos);
    return e;
  };
  CHECK(merge_error({tmp.file("a")}) == s0 + ": shard 1/2 is missing: rerun it (lmask study ... --shard 1/2 --resume), "
                                            "then merge again");
  fs::create_directories(tmp.file("c"));
  fs::copy_file(s0, tmp.file("c/removal.shard-0-of-2"));
  CHECK(merge_error({tmp.file("a"), tmp.file("b"), tmp.file("c")}).find("shard 0/2 is given twice") != std::string::npos);
  run("seed12", 1, 2, 12);
  CHECK(merge_error({tmp.file("a"), tmp.file("seed12")}).find("is a shard of another run than " + s0) !=
        std::string::npos);
  run("three", 1, 3);
  CHECK(merge_error({tmp.file("a"), tmp.file("three")}).find("is a shard of another run") != std::string::npos);
  fs::create_directories(tmp.file("empty"));
  CHECK(merge_error({tmp.file("empty")}).find("no shard files") != std::string::npos);
  CHECK(merge_error({tmp.file("nowhere")}).find("is not a directory") != std::string::npos);

  // Damaged: cut short, or not a shard file at all.
  const std::string text = slurp(s1);
  fs::create_directories(tmp.file("cut"));
  std::ofstream(tmp.file("cut/removal.shard-1-of-2"), std::ios::binary) << text.substr(0, text.size() - 12);
  CHECK(merge_error({tmp.file("a"), tmp.file("cut")}).find("partial state ends too early") != std::string::npos);
  fs::create_directories(tmp.file("junk"));
  std::ofstream(tmp.file("junk/removal.shard-1-of-2")) << "hello\n";
  CHECK(merge_error({tmp.file("a"), tmp.file("junk")}).find(": not a study shard file") != std::string::npos);
  CHECK_FALSE(fs::exists(tmp.file("out/removal.csv")));

  // The weights changed after the shards were computed: their sums describe another model.
  REQUIRE_NOTHROW(merge_shard_dirs({tmp.file("a"), tmp.file("b")}, tmp.file("ok")));
  fs::last_write_time(weights, fs::last_write_time(weights) + std::chrono::hours(1));
  CHECK(merge_error({tmp.file("a"), tmp.file("b")}).find("have changed since it was computed") != std::string::npos);
}

TEST_CASE("shard: a shard that died is finished by --resume, the finished ones are not redone") {
  TempDir tmp("shard_died");
  const StudyRun base = small_run("removal", tmp.file("out"));
  const std::string whole = slurp(run_study(small_run("removal", tmp.file("whole"))).csv);
  const std::string done = run_study_shard(shard_of(base, 0, 2));
  const std::string first_text = slurp(done);

  // Shard 1 holds images 2..4, batches [2,3] [4], 7 steps per image: it
  // dies one step into its second batch.
  CountingProgress dying(7 * 2 + 1);
  CHECK_THROWS_AS(run_study_shard(shard_of(base, 1, 2), &dying), Interrupted);
  CHECK(fs::exists(partial_path(shard_of(base, 1, 2))));
  CHECK_FALSE(fs::exists(shard_path(shard_of(base, 1, 2))));
  CHECK(error_of([&] { merge_shard_dirs({tmp.file("out")}, tmp.file("out")); }).find("shard 1/2 is missing") !=
        std::string::npos);
  CHECK_FALSE(fs::exists(tmp.file("out/removal.csv")));

  // Rerun every shard with --resume: shard 0 is taken as it is, shard 1
  // goes on from its second batch.
  StudyRun resumed = base;
  resumed.resume = true;
  CountingProgress first, second;
  CHECK(run_study_shard(shard_of(resumed, 0, 2), &first) == done);
  CHECK(first.begins == 0);
  CHECK(slurp(done) == first_text);
  run_study_shard(shard_of(resumed, 1, 2), &second);
  CHECK(second.first_advance == 7 * 2);
  CHECK(second.done == 7 * 3);
  CHECK_FALSE(fs::exists(partial_path(shard_of(base, 1, 2))));
  CHECK(slurp(merge_shard_dirs({tmp.file("out")}, tmp.file("out"))[0].csv) == whole);

  // A shard file of other settings is not taken for this run's.
  StudyRun other = shard_of(resumed, 0, 2);
  other.settings.seed = 12;
  CHECK(error_of([&] { run_study_shard(other); }).find("was written by a run with other settings") !=
        std::string::npos);
  // Without --resume, a finished shard is computed again.
  CountingProgress again;
  run_study_shard(shard_of(base, 0, 2), &again);
  CHECK(again.begins == 1);
}

namespace {

// `lmask study removal` on the fixture, with these extra arguments; the exit status.
int study_cli(const TempDir& tmp, const std::string& prefix, const std::string& args) {
  const Fixture& f = fixture();
  return shell(prefix + " " + std::string(LMASK_CLI) + " study removal --weights '" + f.weights + "' --dataset '" +
               f.dataset() + "' --methods grey,layer --fractions 0,0.5,1 --batch 2 --seed 5 " + args + " >" +
               tmp.file("stdout") + " 2>" + tmp.file("stderr"));
}

}  // namespace

TEST_CASE("shard CLI: --shard i/n, then lmask merge, write the single-process CSV byte for byte") {
  TempDir tmp("shard_cli");
  REQUIRE(study_cli(tmp, "OMP_NUM_THREADS=1", "--out '" + tmp.file("single") + "'") == 0);
  const std::string single = slurp(tmp.file("single/removal.csv"));
  REQUIRE(single.size() > 100);
  for (int i = 0; i < 2; ++i) {
    const std::string dir = tmp.file("part" + std::to_string(i));
    REQUIRE(study_cli(tmp, "OMP_NUM_THREADS=1", "--shard " + std::to_string(i) + "/2 --out '" + dir + "'") == 0);
    CHECK(slurp(tmp.file("stdout")) == dir + "/removal.shard-" + std::to_string(i) + "-of-2\n");
  }
  const std::string merged = tmp.file("merged");
  const std::string merge = std::string(LMASK_CLI) + " merge '" + tmp.file("part0") + "' '" + tmp.file("part1") +
                            "' --out '" + merged + "' >" + tmp.file("stdout") + " 2>" + tmp.file("stderr");
  REQUIRE(shell(merge) == 0);
  CHECK(slurp(tmp.file("stdout")) ==
        merged + "/removal.csv\n" + merged + "/removal.png\n" + merged + "/removal.json\n" + merged + "/index.html\n");
  CHECK(slurp(merged + "/removal.csv") == single);
  CHECK(slurp(merged + "/removal.png") == slurp(tmp.file("single/removal.png")));

  CHECK(study_cli(tmp, "OMP_NUM_THREADS=1", "--shard 2/2 --out '" + tmp.file("bad") + "'") == 2);
  CHECK(slurp(tmp.file("stderr")) == "lmask: error: --shard: '2/2': the shards of n are 0/n .. (n-1)/n\n");
  CHECK(shell(std::string(LMASK_CLI) + " merge '" + tmp.file("single") + "' 2>" + tmp.file("stderr")) == 2);
  CHECK(slurp(tmp.file("stderr")).find("no shard files") != std::string::npos);
}

TEST_CASE("shard MPI: mpirun -np 2 --oversubscribe writes the single-process CSV byte for byte, a failed rank writes nothing") {
  // Built with MPI, this runs and fails when mpirun is missing or broken;
  // built without it, CTest reports it skipped (skip_test.h), not passed.
  const std::string mpirun = LMASK_MPIRUN;
  if (mpirun.empty()) return lmask::testing::skip_test("built without MPI (LMASK_MPI=OFF or no MPI found)");
  TempDir tmp("shard_mpi");
  REQUIRE(study_cli(tmp, "OMP_NUM_THREADS=1", "--out '" + tmp.file("single") + "'") == 0);
  const std::string single = slurp(tmp.file("single/removal.csv"));
  // Root may run mpirun only when told so twice; CMA single copies need
  // ptrace rights that containers often lack; one OpenMP thread per rank.
  // Under `make test-sanitize`, Open MPI's own allocations are suppressed
  // (tools/lsan.supp), which needs full malloc stacks to see them.
  const std::string launch = "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
                             "OMPI_MCA_btl_vader_single_copy_mechanism=none OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE "
                             "ASAN_OPTIONS=\"${ASAN_OPTIONS}:fast_unwind_on_malloc=0\" "
                             "timeout 300 " + mpirun + " -np 2 --oversubscribe -x OMP_NUM_THREADS -x OMP_WAIT_POLICY";
  const std::string dir = tmp.file("mpi");
  INFO("stderr of the last run: " << slurp(tmp.file("stderr")));  // read when a check fails
  REQUIRE(study_cli(tmp, launch, "--out '" + dir + "'") == 0);
  CHECK(slurp(dir + "/removal.csv") == single);
  CHECK(slurp(dir + "/removal.png") == slurp(tmp.file("single/removal.png")));
  CHECK(slurp(tmp.file("stdout")) == dir + "/removal.csv\n" + dir + "/removal.png\n" + dir + "/removal.json\n" + dir +
                                         "/index.html\n");
  CHECK(slurp(dir + "/removal.json").find("\"shards\": 2") != std::string::npos);
  CHECK_FALSE(fs::exists(dir + "/removal.shard-0-of-2"));  // merged: the shard files are gone
  CHECK_FALSE(fs::exists(dir + "/removal.shard-1-of-2"));

  // Rank 1 fails (a damaged shard file where --resume looks): no outputs,
  // rank 0's finished shard is kept; once the damage is gone, --resume
  // finishes rank 1's shard and takes rank 0's as it is.
  const std::string again = tmp.file("again");
  REQUIRE(study_cli(tmp, "OMP_NUM_THREADS=1", "--shard 0/2 --out '" + again + "'") == 0);
  std::ofstream(again + "/removal.shard-1-of-2") << "damaged\n";
  CHECK(study_cli(tmp, launch, "--resume --out '" + again + "'") != 0);
  CHECK(slurp(tmp.file("stderr")).find("rank 1 of 2 failed") != std::string::npos);
  CHECK_FALSE(fs::exists(again + "/removal.csv"));
  CHECK(fs::exists(again + "/removal.shard-0-of-2"));
  fs::remove(again + "/removal.shard-1-of-2");
  // Mark rank 0's finished shard: its study seconds become 2^20, which the
  // JSON's timings show only if the file was taken rather than recomputed.
  std::vector<std::string> lines;
  {
    std::istringstream in(slurp(again + "/removal.shard-0-of-2"));
    for (std::string l; std::getline(in, l);) lines.push_back(l);
  }
  // magic, identity, i, n, study, weights, dataset, limit, seed, batch, patch,
  // 2 + 2 methods, 1 + 3 fractions, segmentation, samples, on-bad-file;
  // then images, skipped, clean_correct, study seconds.
  const std::size_t seconds_line = 11 + 3 + 4 + 3 + 3;
  REQUIRE(lines.size() > seconds_line);
  REQUIRE(lines[seconds_line].rfind("0x", 0) == 0);
  lines[seconds_line] = "0x1p+20";
  std::ofstream(again + "/removal.shard-0-of-2", std::ios::binary) << lmask::testing::resealed(lines);
  REQUIRE(study_cli(tmp, launch, "--resume --out '" + again + "'") == 0);
  CHECK(slurp(again + "/removal.csv") == single);
  const std::string json = slurp(again + "/removal.json");
  const std::size_t at = json.find("\"study\": ", json.find("\"timings_s\""));
  REQUIRE(at != std::string::npos);
  CHECK(std::atof(json.c_str() + at + 9) >= 1048576.0);
}

TEST_CASE("shard Slurm: tools/slurm_study_array.sh's array and merge jobs write the single-process CSV") {
  TempDir tmp("shard_slurm");
  REQUIRE(study_cli(tmp, "OMP_NUM_THREADS=1", "--out '" + tmp.file("single") + "'") == 0);
  // An sbatch that runs each job here and now: every array task in turn
  // with its SLURM_ARRAY_TASK_ID, then the merge; it prints a job id.
  const std::string sbatch = tmp.file("sbatch");
  std::ofstream(sbatch) << "#!/usr/bin/env bash\n"
                           "array='' wrap=''\n"
                           "while [[ $# -gt 0 ]]; do case $1 in --array=*) array=${1#--array=};; "
                           "--wrap) wrap=$2; shift;; esac; shift; done\n"
                           "if [[ -n $array ]]; then\n"
                           "  for ((i=${array%-*}; i<=${array#*-}; i++)); do\n"
                           "    SLURM_ARRAY_TASK_ID=$i bash -c \"$wrap\" >/dev/null || exit 1\n"
                           "  done\n"
                           "else bash -c \"$wrap\" >/dev/null || exit 1; fi\n"
                           "echo 4242\n";
  fs::permissions(sbatch, fs::perms::owner_exec, fs::perm_options::add);
  const Fixture& f = fixture();
  const std::string out = tmp.file("array");
  const std::string cmd = "SBATCH='" + sbatch + "' LMASK='" + std::string(LMASK_CLI) + "' THREADS=1 " +
                          std::string(LMASK_SOURCE_DIR) + "/tools/slurm_study_array.sh 3 '" + out +
                          "' removal --weights '" + f.weights + "' --dataset '" + f.dataset() +
                          "' --methods grey,layer --fractions 0,0.5,1 --batch 2 --seed 5 >" + tmp.file("stdout") +
                          " 2>" + tmp.file("stderr");
  REQUIRE(shell(cmd) == 0);
  CAPTURE(slurp(tmp.file("stderr")));
  CHECK(slurp(tmp.file("stdout")) == "array job 4242 (3 shards of removal), merge job 4242 -> " + out +
                                         "/removal.csv\n");
  CHECK(slurp(out + "/removal.csv") == slurp(tmp.file("single/removal.csv")));
}
