// study.cpp — `lmask study removal|leakage|lime|linearity`: the studies S1-S4
// of shared/spec/EXPERIMENTS.md. The work is in src/studies (lmask/study.h);
// this file parses options and draws the progress bar. The paths written go
// to stdout, one per line, the regenerated report (index.html) last.
//
// `--shard i/n` runs one part of the images and writes its shard file
// (`lmask merge` adds the shards up). Under `mpirun -np N`, rank r runs
// shard r/N, rank 0 gathers every shard's text and writes the outputs, and
// the shard files are removed once they are; a rank that fails or dies
// leaves the finished shards' files for `--resume`.
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include <fmt/core.h>

#include "commands.h"
#include "lmask/error.h"
#include "lmask/parse_number.h"
#include "lmask/study.h"
#include "mpi_ranks.h"
#include "number_options.h"
#include "progress.h"

namespace lmask::cli {

namespace {

struct StudyOptions {
  StudyRun run;
  std::string methods;    // empty: the study's default methods
  std::string fractions;  // empty: 0, 0.1, ..., 1
  std::string on_bad_file = "stop";
  std::string shard;      // empty: the whole run
};

class BarProgress final : public StudyProgress {
 public:
  void begin(const std::string& what, std::size_t total) override { bar_ = std::make_unique<Progress>(what, total); }
  void advance(std::size_t done_now) override { bar_->advance(done_now); }
  void end() override { bar_->finish(); }
  void skipped(const std::string& problem) override { bar_->note("lmask: warning: " + problem + " (skipped)"); }

 private:
  std::unique_ptr<Progress> bar_;
};

std::vector<double> parse_fractions(const std::string& list) {
  std::vector<double> out;
  std::stringstream ss(list);
  std::string part;
  while (std::getline(ss, part, ',')) out.push_back(parse_real("--fractions", part, 0, 1));
  return out;
}

void print_outputs(const StudyOutputs& out) {
  fmt::print("{}\n{}\n{}\n{}\n", out.csv, out.png, out.json, out.report);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) throw InputError(path, "cannot read the shard file back");
  return text.str();
}

// One rank of `mpirun -np N lmask study ...`: shard rank/N, then rank 0
// merges what every rank sends (its shard file's text, or its error line).
void run_rank(StudyRun run, const MpiRanks& ranks) {
  run.settings.shard = {ranks.rank(), ranks.size()};
  std::string mine, path;
  std::exception_ptr my_error;  // rethrown after the others have heard of it, as it was (InputError: exit 2)
  try {
    BarProgress progress;  // rank 0's bar only: N bars on one terminal are noise
    path = run_study_shard(run, ranks.rank() == 0 ? &progress : nullptr);
    mine = "ok\n" + slurp(path);
  } catch (const std::exception& e) {
    my_error = std::current_exception();
    mine = "error\n" + std::string(e.what());
  }
  const std::vector<std::string> all = ranks.gather(mine);
  std::string problem;
  StudyOutputs out;
  if (ranks.rank() == 0) {
    std::vector<ShardText> shards;
    for (std::size_t r = 0; r < all.size(); ++r) {
      const std::size_t eol = all[r].find('\n');
      const std::string rest = all[r].substr(eol + 1);
      if (all[r].compare(0, eol, "ok") == 0)
        shards.push_back({"rank " + std::to_string(r), rest});
      else if (problem.empty())
        problem = "rank " + std::to_string(r) + " of " + std::to_string(all.size()) + " failed (" + rest +
                  "); the finished shards are kept in " + run.out_dir + ": rerun with --resume to finish the rest";
    }
    if (problem.empty()) {
      try {
        out = merge_study_shards(shards, run.out_dir);
      } catch (const std::exception& e) {
        problem = e.what();
      }
    }
  }
  // Every rank learns whether the outputs were written before it removes
  // its shard file: until then that file is the only record of its work.
  if (!ranks.broadcast(problem.empty())) {
    if (ranks.rank() == 0) throw InputError(run.out_dir, problem);
    if (my_error) std::rethrow_exception(my_error);
    throw InputError(run.out_dir, "another rank failed; this rank's shard is kept for --resume");
  }
  std::error_code ec;
  std::filesystem::remove(path, ec);
  if (ranks.rank() == 0) print_outputs(out);
}

void run(StudyOptions& o) {
  o.run.settings.methods = o.methods.empty() ? default_methods_for(o.run.study) : parse_method_list(o.methods);
  if (!o.fractions.empty()) o.run.settings.fractions = parse_fractions(o.fractions);
  o.run.settings.on_bad_file = parse_bad_file_policy(o.on_bad_file);
  const MpiRanks ranks;
  if (ranks.size() > 1) {
    if (!o.shard.empty()) throw InputError("--shard", "not under mpirun, where rank r of N runs shard r/N");
    run_rank(o.run, ranks);
    return;
  }
  BarProgress progress;
  if (!o.shard.empty()) {
    o.run.settings.shard = parse_shard(o.shard);
    fmt::print("{}\n", run_study_shard(o.run, &progress));
    return;
  }
  print_outputs(run_study(o.run, &progress));
}

}  // namespace

void add_study(CLI::App& app) {
  auto o = std::make_shared<StudyOptions>();
  o->run.weights = "weights/resnet50_fmnist.h5";
  o->run.dataset = "fmnist:test";
  CLI::App* cmd = app.add_subcommand(
      "study", "Compare masking methods: removal (S1), leakage (S2), lime (S3), linearity (S4); writes "
               "DIR/<study>.csv/.json/.png and DIR/index.html");
  cmd->add_option("study", o->run.study, "removal, leakage, lime or linearity")->required()
      ->check(CLI::IsMember(study_names()));
  cmd->add_option("--weights", o->run.weights, "HDF5 weights")->capture_default_str();
  cmd->add_option("--dataset", o->run.dataset, "fmnist:test, fmnist:train[:DIR] or folder:ROOT[,masks=DIR]")
      ->capture_default_str();
  cmd->add_option("--methods", o->methods,
                  "comma-separated masking methods (default: black,grey,grey-smooth,blur,layer,layer-renorm; "
                  "lime adds segment-mean)");
  cmd->add_option("--limit", o->run.settings.limit, "the first N images (0: all)")
      ->transform(Unsigned<std::size_t>())->capture_default_str();
  cmd->add_option("--seed", o->run.settings.seed,
                  "image i gets patch order (and lime perturbations) from seed + i")
      ->transform(Unsigned<std::uint64_t>())->capture_default_str();
  cmd->add_option("--batch", o->run.settings.batch, "images per forward")->transform(Integer(1, 4096))
      ->capture_default_str();
  cmd->add_option("--patches", o->run.settings.patch,
                  "patch size in pixels (default: 16 at 224 px, scaled to the model's input size)")
      ->transform(Integer(1, 4096));
  cmd->add_option("--fractions", o->fractions, "removal: comma-separated fractions removed (default 0,0.1,...,1)");
  cmd->add_option("--segmentation", o->run.settings.segmentation,
                  "lime: grid (patch x patch squares) or slic (superpixels, as many as the grid has)")
      ->capture_default_str();
  cmd->add_option("--samples", o->run.settings.samples, "lime: perturbations per image")->transform(Integer(2, 1 << 20))
      ->capture_default_str();
  cmd->add_option("--on-bad-file", o->on_bad_file,
                  "an unreadable image mid-run: stop, or skip it (a warning, counted in the JSON)")
      ->check(CLI::IsMember({"stop", "skip"}))->capture_default_str();
  cmd->add_flag("--resume", o->run.resume,
                "continue an interrupted run of the same settings from its last finished batch (DIR/.<study>.partial); "
                "with --shard or mpirun, finished shards are kept and only the missing ones run");
  cmd->add_option("--shard", o->shard,
                  "i/n: run only part i of n of the images (whole batches) and write DIR/<study>.shard-i-of-n; "
                  "`lmask merge DIR...` then writes the outputs. Under mpirun, rank r runs r/N by itself");
  cmd->add_option("--out", o->run.out_dir, "output directory (created if missing)")->required();
  cmd->callback([o] { run(*o); });
}

}  // namespace lmask::cli
