// test_study_integrity.cpp — a study's files are trusted only when sound:
// a damaged or edited checkpoint is never resumed, a tampered shard is never
// merged, a FIFO in their place is refused rather than waited on, two
// processes never write one result set at once, and a run that cannot
// finish its outputs (a full disk) leaves no new file beside the old set.
// Every refusal is the bad-input contract's one line and exit status 2.
// Edited files get their checksum recomputed, so that the checks behind the
// checksum are what refuses them. On the small study (small_study.h): the
// golden random ResNet-50 at 32 px, five images in batches of 2.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "cli_run.h"
#include "lmask/study.h"
#include "small_study.h"
#include "study_file_text.h"
#include "temp_dir.h"

using namespace lmask;
using lmask::testing::check_one_line_error;
using lmask::testing::Run;
using lmask::testing::lines_of;
using lmask::testing::resealed;
using lmask::testing::lmask_cli;
using lmask::testing::lmask_cli_bounded;
using lmask::testing::lmask_cli_to;
using lmask::testing::slurp;
using lmask::testing::TempDir;
namespace fs = std::filesystem;

namespace {

// `lmask study removal` with the small study's settings (small_study_settings()), into out_dir.
std::string removal_args(const std::string& out_dir, const std::string& extra = "", int seed = 11) {
  const auto& f = lmask::testing::small_study_files();
  return "study removal --weights '" + f.weights + "' --dataset '" + f.dataset() + "' --limit 0 --seed " +
         std::to_string(seed) + " --batch 2 --methods grey,layer --fractions 0,0.5,1 --samples 8 --out '" +
         out_dir + "' " + extra;
}

// A run that fails once the study is done: the progress bar's last line,
// then the error's one line (the contract's form), naming `where`.
void check_error_after_study(const Run& r, const std::string& where) {
  CAPTURE(r.err);
  CHECK(r.status == 2);
  REQUIRE(r.err.size() > 1);
  const std::size_t last = r.err.rfind('\n', r.err.size() - 2) + 1;  // npos + 1: a single line
  CHECK(r.err.find("lmask: error: ") == last);
  CHECK(r.err.compare(last, 14 + where.size() + 2, "lmask: error: " + where + ": ") == 0);
  CHECK(r.err.back() == '\n');
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

// The first line of each removal row in a state whose rows start at `first`
// (a row: images, correct, unchanged, the KL sum's part count, its parts, its non-finite part).
std::vector<std::size_t> removal_rows(const std::vector<std::string>& lines, std::size_t first, std::size_t rows) {
  std::vector<std::size_t> starts;
  for (std::size_t at = first; starts.size() < rows; at += 5 + std::stoul(lines.at(at + 3))) starts.push_back(at);
  return starts;
}

std::set<std::string> names_in(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("interrupted") {}
};
// Ctrl-C once `limit` steps of progress were reported.
struct InterruptAfter final : StudyProgress {
  std::size_t limit, done = 0;
  explicit InterruptAfter(std::size_t l) : limit(l) {}
  void begin(const std::string&, std::size_t) override {}
  void advance(std::size_t n) override {
    if ((done += n) >= limit) throw Interrupted();
  }
  void end() override {}
};

// An exclusive flock(2) on `path` (created if missing), as another lmask process would hold it.
struct HeldLock {
  int fd;
  explicit HeldLock(const std::string& path) : fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
    REQUIRE(fd >= 0);
    REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
  }
  ~HeldLock() { ::close(fd); }
};

}  // namespace

TEST_CASE("study integrity: a damaged or edited checkpoint is refused in one line, never resumed") {
  TempDir tmp("integrity_partial");
  const StudyRun run = lmask::testing::small_study_run("removal", tmp.file("out"));
  // 7 steps per image (the clean forward, 2 methods x 3 fractions): stopped in the second batch.
  InterruptAfter interrupt(7 * 2 + 1);
  REQUIRE_THROWS_AS(run_study(run, &interrupt), Interrupted);
  const std::string partial = partial_path(run);
  const std::string saved = slurp(partial);
  const std::vector<std::string> lines = lines_of(saved);
  // tag, identity, next image, then the state: images, skipped, clean_correct,
  // total and clean seconds, the method count and a time per method, the rows.
  REQUIRE(lines.size() > 20);
  REQUIRE(lines[2] == "2");
  REQUIRE(lines[3] == "2");
  const std::size_t methods = std::stoul(lines[8]);
  const std::vector<std::size_t> rows = removal_rows(lines, 9 + methods, 6);

  // Each edit in turn (one case, so that the checkpoint is made once).
  struct Damage {
    const char* what;
    std::string text, problem;
  };
  std::vector<Damage> damages;
  auto edited = [&](std::size_t line, const std::string& value) {
    std::vector<std::string> e = lines;
    e.at(line) = value;
    return resealed(e);
  };
  std::string flipped = saved;
  flipped[saved.find("\n2\n") + 1] ^= '2' ^ '4';
  damages.push_back({"one flipped byte: the next image 2 becomes 4", flipped, "checksum"});
  damages.push_back({"a KL sum made NaN", edited(rows[1] + 4 + std::stoul(lines[rows[1] + 3]), "nan"),
                     "is not finite"});  // the sum's non-finite part
  damages.push_back({"more correct than images", edited(rows[0] + 1, "9"), "9 correct of 2 images"});
  damages.push_back({"more unchanged than images", edited(rows[2] + 2, "3"), "3 unchanged of 2 images"});
  damages.push_back({"a row of other images than the run's", edited(rows[5], "4"), "4 images, but the run has 2"});
  damages.push_back({"the next image moved on, past images never counted", edited(2, "4"), "resumes at image 4"});
  damages.push_back({"the format of an older lmask", edited(0, "lmask-study-partial 2"), "older lmask"});
  const std::string resume = removal_args(run.out_dir, "--resume");
  for (const Damage& d : damages) {
    CAPTURE(d.what);
    write_file(partial, d.text);
    const Run r = lmask_cli(tmp, resume);
    check_one_line_error(r, partial);
    CHECK(r.err.find(d.problem) != std::string::npos);
    CHECK(r.err.find("without --resume") != std::string::npos);  // what to do
    CHECK_FALSE(fs::exists(run.out_dir + "/removal.csv"));
  }
  // Sound, it resumes, finishes and is removed (to the clean run's CSV: test_study_resume.cpp).
  write_file(partial, saved);
  const Run r = lmask_cli(tmp, resume);
  CAPTURE(r.err);
  CHECK(r.status == 0);
  CHECK(fs::exists(run.out_dir + "/removal.json"));
  CHECK_FALSE(fs::exists(partial));
}

TEST_CASE("study integrity: merge refuses a tampered shard in one line and writes nothing") {
  TempDir tmp("integrity_shard");
  for (int i = 0; i < 2; ++i) {
    StudyRun run = lmask::testing::small_study_run("removal", tmp.file("part" + std::to_string(i)));
    run.settings.shard = {i, 2};
    run_study_shard(run);
  }
  // Shard 1/2: batches [2,3] and [4], 3 images.
  const std::string shard = tmp.file("part1/removal.shard-1-of-2");
  const std::string saved = slurp(shard);
  const std::vector<std::string> lines = lines_of(saved);
  // magic, identity, i, n, study, weights, dataset, limit, seed, batch, patch,
  // the methods (count first), the fractions (count first), segmentation,
  // samples, on-bad-file; then the state (as in a checkpoint).
  const std::size_t methods = std::stoul(lines.at(11)), fractions = std::stoul(lines.at(12 + methods));
  const std::size_t state = 16 + methods + fractions;
  REQUIRE(lines.at(state) == "3");
  const std::vector<std::size_t> rows = removal_rows(lines, state + 6 + methods, 6);
  const std::string merge = "merge '" + tmp.file("part0") + "' '" + tmp.file("part1") + "' --out '" + tmp.file("out") + "'";

  // Each edit in turn (one case, so that the shards are made once).
  struct Damage {
    const char* what;
    std::string text, problem;
  };
  std::vector<Damage> damages;
  auto edited = [&](const std::vector<std::size_t>& at, const std::string& value) {
    std::vector<std::string> e = lines;
    for (std::size_t line : at) e.at(line) = value;
    return resealed(e);
  };
  std::string flipped = saved;
  flipped[saved.rfind("\n3\n") + 1] ^= '3' ^ '9';
  damages.push_back({"one flipped byte", flipped, "checksum"});
  std::vector<std::size_t> every_count_of_images = rows;
  every_count_of_images.push_back(state);
  damages.push_back({"11 images, every row agreeing, where the shard has 3", edited(every_count_of_images, "11"),
                     "11 images"});
  damages.push_back({"9 correct of 3 images", edited({rows[3] + 1}, "9"), "9 correct of 3 images"});
  damages.push_back({"more clean hits than images", edited({state + 2}, "4"), "4 correct of 3 images"});
  for (const Damage& d : damages) {
    CAPTURE(d.what);
    write_file(shard, d.text);
    const Run r = lmask_cli(tmp, merge);
    check_one_line_error(r, shard);
    CHECK(r.err.find(d.problem) != std::string::npos);
    CHECK(r.err.find("rerun") != std::string::npos);  // what to do
    CHECK_FALSE(fs::exists(tmp.file("out/removal.csv")));
  }
  write_file(shard, saved);
  const Run r = lmask_cli(tmp, merge);
  CAPTURE(r.err);
  CHECK(r.status == 0);
  CHECK(fs::exists(tmp.file("out/removal.csv")));
}

TEST_CASE("study integrity: a FIFO as a shard or checkpoint is refused at once, not waited on") {
  TempDir tmp("integrity_fifo");
  fs::create_directories(tmp.file("shards"));
  const std::string shard = tmp.file("shards/removal.shard-0-of-1");
  REQUIRE(::mkfifo(shard.c_str(), 0644) == 0);
  const Run merged = lmask_cli_bounded(tmp, "merge '" + tmp.file("shards") + "' --out '" + tmp.file("out") + "'");
  check_one_line_error(merged, shard);
  CHECK(merged.err.find("is a FIFO") != std::string::npos);

  fs::create_directories(tmp.file("run"));
  const std::string partial = tmp.file("run/.removal.partial");
  REQUIRE(::mkfifo(partial.c_str(), 0644) == 0);
  const Run resumed = lmask_cli_bounded(tmp, removal_args(tmp.file("run"), "--resume"));
  check_one_line_error(resumed, partial);
  CHECK(resumed.err.find("is a FIFO") != std::string::npos);
}

TEST_CASE("study integrity: a second process writing the same results is refused, other result sets go on") {
  TempDir tmp("integrity_lock");
  const std::string out = tmp.file("out");
  fs::create_directories(out);
  auto busy = [&](const std::string& what) {
    return "lmask: error: " + out + ": another lmask process is writing " + what +
           " results here; wait for it or use another --out\n";
  };
  {
    const HeldLock whole(out + "/.removal.lock");  // a whole removal run writing into out
    const Run r = lmask_cli(tmp, removal_args(out));
    CHECK(r.err == busy("removal"));
    CHECK(r.status == 2);
    CHECK(names_in(out) == std::set<std::string>{".removal.lock"});  // nothing written, no checkpoint replaced
    // The shards of a run are result sets of their own: they share a directory.
    CHECK(lmask_cli(tmp, removal_args(out, "--shard 0/2")).status == 0);
    {
      const HeldLock shard(out + "/.removal.shard-1-of-2.lock");
      const Run second = lmask_cli(tmp, removal_args(out, "--shard 1/2"));
      CHECK(second.err == busy("removal shard 1/2"));
      CHECK(second.status == 2);
    }
    CHECK(lmask_cli(tmp, removal_args(out, "--shard 1/2")).status == 0);
    // Merging them writes the whole run's set.
    const Run merged = lmask_cli(tmp, "merge '" + out + "'");
    CHECK(merged.err == busy("removal"));
    CHECK(merged.status == 2);
    CHECK_FALSE(fs::exists(out + "/removal.csv"));
  }
  const Run merged = lmask_cli(tmp, "merge '" + out + "'");
  CAPTURE(merged.err);
  CHECK(merged.status == 0);
  CHECK(fs::exists(out + "/removal.json"));
}

TEST_CASE("study integrity: a run that cannot write all its outputs (disk full) leaves none, the old set stays") {
  TempDir tmp("integrity_full");
  const std::string out = tmp.file("out");
  REQUIRE(lmask_cli(tmp, removal_args(out)).status == 0);
  const std::set<std::string> before = names_in(out);
  std::vector<std::pair<std::string, std::string>> old_set;
  for (const char* ext : {".csv", ".png", ".json"})
    old_set.emplace_back(out + "/removal" + ext, slurp(out + "/removal" + ext));
  REQUIRE(old_set[1].second.size() > 4096);  // the chart cannot be written under the limit below
  // Files of at most 8 blocks of 512 bytes (dash's ulimit -f): the CSV and
  // the checkpoint fit, the chart does not; with SIGXFSZ ignored the write
  // fails with EFBIG instead of killing the process, as on a full disk.
  const std::string full_disk = "trap '' XFSZ; ulimit -f 8";

  const Run other_seed = lmask_cli_to(tmp, removal_args(out, "", 12), "", 300, full_disk + "; ");
  check_error_after_study(other_seed, out + "/removal.png");
  std::set<std::string> after = names_in(out);
  after.erase(".removal.partial");  // kept: --resume finishes the run once there is room
  CHECK(after == before);
  for (const auto& [path, bytes] : old_set) CHECK(slurp(path) == bytes);

  const std::string fresh = tmp.file("fresh");
  const Run first = lmask_cli_to(tmp, removal_args(fresh), "", 300, full_disk + "; ");
  check_error_after_study(first, fresh + "/removal.png");
  for (const char* ext : {".csv", ".png", ".json"}) CHECK_FALSE(fs::exists(fresh + "/removal" + ext));
  for (const std::string& name : names_in(fresh)) CHECK(name.find(".tmp-") == std::string::npos);
  for (const std::string& name : names_in(fresh)) CHECK(name.find(".set-") == std::string::npos);
}
