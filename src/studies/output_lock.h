// output_lock.h — one writer per result set: a study run (or a merge) holds
// an exclusive flock(2) on <out>/.<set>.lock from before it reads its
// checkpoint until its outputs are written, so that two processes given the
// same --out cannot mix their results or replace each other's checkpoint.
// Each set has its own lock: different studies, and the shards of one run
// (.<study>.shard-<i>-of-<n>.lock), share a directory freely. The holder
// removes the lock file before letting go (a winner checks that the file it
// locked is still the one at the path), so a finished run leaves nothing
// behind; one that is killed leaves an empty file, and the kernel drops its
// lock however it ends. Internal to src/studies.
#pragma once

#include <string>

namespace lmask::study {

class OutputLock {
 public:
  // `set`: the file-name part (removal, removal.shard-1-of-2); `what`: the
  // set in words, for the refusal ("removal shard 1/2"). InputError(dir,
  // ...) when another process holds it, or the lock file cannot be made.
  OutputLock(const std::string& dir, const std::string& set, const std::string& what);
  ~OutputLock();
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace lmask::study
