// run_study.cpp — one study from the command line's point of view: check
// the inputs that can be checked cheaply, load the model and dataset, run
// the images (all of them, or one shard's), and write the outputs
// (study_outputs.cpp) or the shard's file (shard_file.h). While the images
// run, a partial file holds the state after the last finished batch, for
// --resume (partial_file.h). From before the checkpoint is read until the
// outputs are written, the run holds its result set's lock (output_lock.h).
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "lmask/atomic_file.h"
#include "lmask/error.h"
#include "lmask/lime_model.h"
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

// Creates the directory if missing; refuses one that cannot hold results,
// before hours of computing rather than after.
void prepare_out_dir(const std::string& dir) {
  if (dir.empty()) throw InputError("--out", "no output directory given");
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) throw InputError(dir, "exists and is not a directory");
  fs::create_directories(dir, ec);
  if (ec) throw InputError(dir, "cannot create the output directory (" + ec.message() + ")");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw InputError(dir, "output directory is not writable (" + std::string(std::strerror(errno)) + ")");
}

// What can be refused before loading anything.
void check_run(const StudyRun& run) {
  const auto names = study_names();
  if (std::find(names.begin(), names.end(), run.study) == names.end())
    throw InputError("study", "unknown study '" + run.study + "' (known: removal, leakage, lime, linearity)");
  const StudySettings& s = run.settings;
  // Unknown names fail now, not after loading the model; segment-mean
  // exists where segments do, which is the lime study only.
  const Segmentation placeholder = grid_segments(1, 1, 1);
  study::make_methods(s.methods, run.study == "lime" ? &placeholder : nullptr);
  study::check_batch(s);
  if (run.study == "lime") parse_segmentation_kind(s.segmentation);
  if (s.shard.count < 1 || s.shard.index < 0 || s.shard.index >= s.shard.count)
    throw InputError("--shard", "shard " + std::to_string(s.shard.index) + " of " + std::to_string(s.shard.count) +
                                    " does not exist (0 <= i < n)");
  prepare_out_dir(run.out_dir);
}

std::string shard_suffix(const StudyShard& shard) {
  return ".shard-" + std::to_string(shard.index) + "-of-" + std::to_string(shard.count);
}

// The checkpoint's identity: the run's, and which shard of it.
std::string checkpoint_identity(const StudyRun& run, std::size_t dataset_size) {
  return study::run_identity(run, dataset_size) + "; shard=" + std::to_string(run.settings.shard.index) + "/" +
         std::to_string(run.settings.shard.count);
}

}  // namespace

std::string partial_path(const StudyRun& run) {
  const std::string suffix = run.settings.shard.count > 1 ? shard_suffix(run.settings.shard) : "";
  return (fs::path(run.out_dir) / ("." + run.study + suffix + ".partial")).string();
}

std::string shard_path(const StudyRun& run) {
  return (fs::path(run.out_dir) / (run.study + shard_suffix(run.settings.shard))).string();
}

StudyOutputs run_study(const StudyRun& run, StudyProgress* progress) {
  check_run(run);
  if (run.settings.shard.count != 1)
    throw InputError("--shard", "run_study computes a whole run; a shard's result is written by run_study_shard");
  const study::OutputLock lock(run.out_dir, run.study, run.study);
  study::Stopwatch load_watch;
  const Model model = Model::load(run.weights);
  const auto data = open_dataset(run.dataset, model.meta());
  const double load_seconds = load_watch.lap();
  study::PartialFile partial(partial_path(run), checkpoint_identity(run, data->size()), run.resume);
  const study::StudyResult r = study::compute_result(run.study, model, *data, run.settings, progress, &partial);
  const StudyOutputs out = study::write_outputs(run, model, *data, r, load_seconds, 1);
  partial.remove();
  return out;
}

std::string run_study_shard(const StudyRun& run, StudyProgress* progress) {
  check_run(run);
  const StudyShard& shard = run.settings.shard;
  const study::OutputLock lock(run.out_dir, run.study + shard_suffix(shard),
                               run.study + " shard " + std::to_string(shard.index) + "/" + std::to_string(shard.count));
  const Model model = Model::load(run.weights);
  const auto data = open_dataset(run.dataset, model.meta());
  const std::string identity = study::run_identity(run, data->size());
  const std::string path = shard_path(run);
  if (run.resume && fs::exists(path)) {
    const study::ShardFile done = study::parse_shard_file({path, study::read_study_file(path)});
    if (done.identity != identity || done.run.settings.shard.index != run.settings.shard.index ||
        done.run.settings.shard.count != run.settings.shard.count)
      throw InputError(path, "was written by a run with other settings, weights or dataset; run with the same ones "
                             "to resume, or without --resume to start over");
    return path;  // finished before: nothing to compute
  }
  study::PartialFile partial(partial_path(run), checkpoint_identity(run, data->size()), run.resume);
  const study::StudyResult r = study::compute_result(run.study, model, *data, run.settings, progress, &partial);
  write_text_atomically(path, study::shard_file_text(run, identity, r));
  partial.remove();
  return path;
}

namespace study {

StudyResult empty_result(const std::string& study, const Model& model, const StudySettings& s) {
  if (study == "removal") return empty_removal(model, s);
  if (study == "leakage") return empty_leakage(model, s);
  if (study == "lime") return empty_lime(model, s);
  if (study == "linearity") return empty_linearity(model, s);
  throw InputError("study", "unknown study '" + study + "'");
}

StudyResult compute_result(const std::string& study, const Model& model, const Dataset& data, const StudySettings& s,
                           StudyProgress* progress, StudyCheckpoint* checkpoint) {
  if (study == "removal") return run_removal(model, data, s, progress, checkpoint);
  if (study == "leakage") return run_leakage(model, data, s, progress, checkpoint);
  if (study == "lime") return run_lime(model, data, s, progress, checkpoint);
  if (study == "linearity") return run_linearity(model, data, s, progress, checkpoint);
  throw InputError("study", "unknown study '" + study + "'");
}

void write_state(StateWriter& out, const StudyResult& r) {
  std::visit([&](const auto& result) { write_state(out, result); }, r);
}

void add_state(StateReader& in, StudyResult& r) {
  std::visit([&](auto& result) { add_state(in, result); }, r);
}

}  // namespace study

}  // namespace lmask
