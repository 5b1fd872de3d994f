// merge_shards.cpp — the shards of one run added up into the run's outputs,
// as if one process had computed them: check that the shards belong
// together and are all there, reload the weights and dataset they name
// (unchanged, or the sums would describe another model), add their states
// in shard order and write the outputs with the single-process writer.
// Every shard's counts are checked on their own first (against each other
// and against the images that shard had to study), so that a damaged or
// edited shard is named and never added up.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>

#include "lmask/error.h"
#include "lmask/study.h"
#include "output_lock.h"
#include "partial_file.h"
#include "sealed_text.h"
#include "shard_file.h"
#include "study_common.h"
#include "study_result.h"

namespace lmask {

namespace {

namespace fs = std::filesystem;

std::string shard_name(const StudyShard& s) { return std::to_string(s.index) + "/" + std::to_string(s.count); }

// The shards, checked to be one run's, every shard once; sorted by index.
std::vector<study::ShardFile> check_one_run(std::vector<study::ShardFile> shards) {
  if (shards.empty()) throw InputError("merge", "no shards to merge");
  const study::ShardFile& first = shards[0];
  for (const study::ShardFile& f : shards) {
    if (f.run.study != first.run.study)
      throw InputError(f.name, "a " + f.run.study + " shard, but " + first.name + " is a " + first.run.study +
                                   " shard: merge one study's shards at a time");
    if (f.identity != first.identity || f.run.settings.shard.count != first.run.settings.shard.count)
      throw InputError(f.name, "is a shard of another run than " + first.name +
                                   " (other settings, weights, dataset or shard count)");
  }
  std::sort(shards.begin(), shards.end(), [](const auto& a, const auto& b) {
    return a.run.settings.shard.index < b.run.settings.shard.index;
  });
  const int n = first.run.settings.shard.count;
  for (std::size_t k = 1; k < shards.size(); ++k)
    if (shards[k].run.settings.shard.index == shards[k - 1].run.settings.shard.index)
      throw InputError(shards[k].name, "shard " + shard_name(shards[k].run.settings.shard) +
                                           " is given twice (also " + shards[k - 1].name + ")");
  for (int i = 0, k = 0; i < n; ++i, ++k)
    if (std::size_t(k) >= shards.size() || shards[k].run.settings.shard.index != i)
      throw InputError(first.name, "shard " + std::to_string(i) + "/" + std::to_string(n) +
                                       " is missing: rerun it (lmask study ... --shard " + std::to_string(i) + "/" +
                                       std::to_string(n) + " --resume), then merge again");
  return shards;
}

}  // namespace

StudyOutputs merge_study_shards(const std::vector<ShardText>& texts, const std::string& out_dir) {
  std::vector<study::ShardFile> parsed;
  for (const ShardText& t : texts) parsed.push_back(study::parse_shard_file(t));
  std::vector<study::ShardFile> shards = check_one_run(std::move(parsed));
  StudyRun run = shards[0].run;
  run.settings.shard = {};
  run.out_dir = out_dir;
  if (out_dir.empty()) throw InputError("--out", "no output directory given");
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec || ::access(out_dir.c_str(), W_OK | X_OK) != 0)
    throw InputError(out_dir, "cannot write the merged results there");
  const study::OutputLock lock(out_dir, run.study, run.study);

  study::Stopwatch load_watch;
  const Model model = Model::load(run.weights);
  const auto data = open_dataset(run.dataset, model.meta());
  const double load_seconds = load_watch.lap();
  if (study::run_identity(run, data->size()) != shards[0].identity)
    throw InputError(shards[0].name, "the weights or dataset it names have changed since it was computed (" +
                                         run.weights + ", " + run.dataset + ")");
  study::StudyResult r = study::empty_result(run.study, model, run.settings);
  for (study::ShardFile& f : shards) study::add_checked_shard(f, model, *data, r);
  if (auto* lime = std::get_if<LimeResult>(&r)) study::restore_example_pictures(*lime, *data, shards[0].name);
  return study::write_outputs(run, model, *data, r, load_seconds, static_cast<int>(shards.size()));
}

std::vector<StudyOutputs> merge_shard_dirs(const std::vector<std::string>& dirs, const std::string& out_dir) {
  // <study>.shard-<i>-of-<n>, grouped by study in study_names() order.
  std::map<std::string, std::vector<ShardText>> by_study;
  const std::regex name(R"(([a-z]+)\.shard-[0-9]+-of-[0-9]+)");
  for (const std::string& dir : dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) throw InputError(dir, "is not a directory");
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir, ec)) files.push_back(entry.path());
    if (ec) throw InputError(dir, "cannot list (" + ec.message() + ")");
    std::sort(files.begin(), files.end());
    for (const fs::path& p : files) {
      std::smatch m;
      const std::string file = p.filename().string();
      if (std::regex_match(file, m, name)) by_study[m[1]].push_back({p.string(), study::read_study_file(p.string())});
    }
  }
  std::vector<StudyOutputs> outputs;
  for (const std::string& study : study_names())
    if (by_study.count(study)) outputs.push_back(merge_study_shards(by_study[study], out_dir));
  if (outputs.empty()) {
    std::string where;
    for (const auto& d : dirs) where += (where.empty() ? "" : ", ") + d;
    throw InputError(where.empty() ? "merge" : where, "no shard files (<study>.shard-<i>-of-<n>) found");
  }
  return outputs;
}

}  // namespace lmask
