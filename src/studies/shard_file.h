// shard_file.h — one shard's result on disk, <out>/<study>.shard-<i>-of-<n>:
// a text file that says which run and which shard it is, with every
// setting needed to redo the run's outputs, then the shard's counts and
// exact sums (partial_state.h). Internal to src/studies; merge_shards.cpp
// reads it, run_study.cpp writes it.
//
//   lmask-study-shard 2          the format and its version
//   <identity>                   run_identity(): study, settings, weights (path, size, time), dataset (spec, size)
//   <i>, <n>                     the shard, one count per line
//   <study>, <weights>, <dataset spec>, <limit>, <seed>, <batch>, <patch>,
//   <method count>, <method>..., <fraction count>, <fraction>..., <segmentation>, <samples>, <on-bad-file>
//   <state>                      write_state() of the study's result
//   crc32 <8 hex digits>         the checksum of everything before (sealed_text.h)
#pragma once

#include <string>

#include "lmask/dataset.h"
#include "lmask/model.h"
#include "lmask/study.h"
#include "partial_state.h"
#include "study_result.h"

namespace lmask::study {

struct ShardFile {
  std::string name;      // where it came from, for errors
  std::string identity;  // run_identity() of the run it belongs to
  StudyRun run;          // out_dir and resume empty; settings.shard: this shard
  StateReader state;     // positioned at the study's state
};

std::string shard_file_text(const StudyRun& run, const std::string& identity, const StudyResult& r);
// InputError(name, ...) for anything but a shard file of this format with
// its checksum intact. The counts in the state are checked where they are
// added up (merge_shards.cpp).
ShardFile parse_shard_file(const ShardText& shard);

// Adds f's state to `total` once it is checked by itself: every count
// against the others (result_checks.h), and the images it counts (studied
// or skipped) against those its part of the run has in `data`.
// InputError(f.name, ...) naming what is wrong and to rerun the shard.
void add_checked_shard(ShardFile& f, const Model& model, const Dataset& data, StudyResult& total);

}  // namespace lmask::study
