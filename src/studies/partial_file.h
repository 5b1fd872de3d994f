// partial_file.h — a study's checkpoint on disk: <out>/.<study>.partial
// (or .<study>.shard-<i>-of-<n>.partial, lmask/study.h partial_path),
// rewritten atomically after every finished batch and removed when the run
// ends. Internal to src/studies; run_study uses it.
//
// Its first line is a format tag and its last a checksum (sealed_text.h);
// the second says which run wrote it (the study, every setting, the weights
// file's path, size and modification time, the dataset and its size, and
// which shard of the run it is); a resumed run must match that line
// exactly, or it would continue someone else's sums. The state itself is
// checked where it is restored (study_loop.h).
#pragma once

#include <cstddef>
#include <string>

#include "lmask/study.h"

namespace lmask::study {

// The one line identifying a run, for the partial file.
std::string run_identity(const StudyRun& run, std::size_t dataset_size);

class PartialFile final : public StudyCheckpoint {
 public:
  // resume false: load() finds nothing, and the first save() replaces any old file.
  PartialFile(std::string path, std::string identity, bool resume);
  std::string load() override;  // InputError when the file is another run's or damaged
  void save(const std::string& state) override;
  std::string name() const override { return path_; }
  void remove();  // the run finished: its results are the record now

 private:
  std::string path_, identity_;
  bool resume_;
};

}  // namespace lmask::study
