// study_result.h — each study's result as something to lay out, run, save,
// add up and write, so that a whole run, a shard, a resumed run and a merge
// of shards treat the four studies alike. Internal to src/studies; the
// interface is lmask/study.h.
#pragma once

#include <string>
#include <variant>

#include "lmask/dataset.h"
#include "lmask/model.h"
#include "lmask/study.h"
#include "partial_state.h"

namespace lmask::study {

// Per study: the result of a run before its first image (settings checked,
// rows laid out, every count and sum zero); its counts and sums as state
// text (write_state); and add_state, which adds what write_state wrote to r
// (so it restores a fresh r from a checkpoint, and sums shards).
RemovalResult empty_removal(const Model& model, const StudySettings& s);
void write_state(StateWriter& out, const RemovalResult& r);
void add_state(StateReader& in, RemovalResult& r);

LeakageResult empty_leakage(const Model& model, const StudySettings& s);
void write_state(StateWriter& out, const LeakageResult& r);
void add_state(StateReader& in, LeakageResult& r);

LinearityResult empty_linearity(const Model& model, const StudySettings& s);
void write_state(StateWriter& out, const LinearityResult& r);
void add_state(StateReader& in, LinearityResult& r);

LimeResult empty_lime(const Model& model, const StudySettings& s);
void write_state(StateWriter& out, const LimeResult& r);
// Examples added from a state come without their image and segmentation
// (cheap and deterministic to rebuild); restore_example_pictures reads them
// from the dataset. Examples beyond kLimeExampleImages are dropped.
void add_state(StateReader& in, LimeResult& r);
void restore_example_pictures(LimeResult& r, const Dataset& data, const std::string& where);

// Any one study's result, by the study's name (one of study_names()).
using StudyResult = std::variant<RemovalResult, LeakageResult, LinearityResult, LimeResult>;
StudyResult empty_result(const std::string& study, const Model& model, const StudySettings& s);
StudyResult compute_result(const std::string& study, const Model& model, const Dataset& data, const StudySettings& s,
                           StudyProgress* progress, StudyCheckpoint* checkpoint);
void write_state(StateWriter& out, const StudyResult& r);
void add_state(StateReader& in, StudyResult& r);

// <out_dir>/<study>.csv, .png and, last, .json, each atomically, then the
// directory's index.html. `shards`: how many processes computed r (the
// JSON's timings are then their sum).
StudyOutputs write_outputs(const StudyRun& run, const Model& model, const Dataset& data, const StudyResult& r,
                           double load_seconds, int shards);

}  // namespace lmask::study
