// merge.cpp — `lmask merge DIR...`: the shard files that `lmask study
// --shard i/n` left in the directories, added up study by study into the
// same <study>.csv, .png, .json and index.html as a single-process run
// (lmask/study.h, merge_shard_dirs). The paths written go to stdout.
#include <memory>

#include <fmt/core.h>

#include "commands.h"
#include "lmask/study.h"

namespace lmask::cli {

namespace {

struct MergeOptions {
  std::vector<std::string> dirs;
  std::string out;  // empty: the first DIR
};

void run(const MergeOptions& o) {
  for (const StudyOutputs& out : merge_shard_dirs(o.dirs, o.out.empty() ? o.dirs.front() : o.out))
    fmt::print("{}\n{}\n{}\n{}\n", out.csv, out.png, out.json, out.report);
}

}  // namespace

void add_merge(CLI::App& app) {
  auto o = std::make_shared<MergeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "merge", "Add up the shard files of `lmask study --shard i/n` runs (DIR/<study>.shard-i-of-n) into "
               "<study>.csv/.json/.png and index.html, as one process would have written them");
  cmd->add_option("dirs", o->dirs, "directories holding the shard files (every shard of a run exactly once)")
      ->required();
  cmd->add_option("--out", o->out, "where to write the results (default: the first DIR)");
  cmd->callback([o] { run(*o); });
}

}  // namespace lmask::cli
