// partial_state.h — a study's counts and sums as text, for its checkpoint
// (lmask/study.h, StudyCheckpoint). Internal to src/studies.
//
// One value per line: counts in decimal, sums as C99 hexadecimal floats
// ("%a"), which print and parse exactly, so that a resumed run continues
// every sum from the very same double and its CSV matches an uninterrupted
// run byte for byte. Not a general file format: the reader expects exactly
// what the same study's writer wrote, and a run with other settings never
// reads it (run_study checks a settings line first).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "lmask/study.h"

namespace lmask::study {

class StateWriter {
 public:
  StateWriter& count(std::size_t v);
  StateWriter& num(double v);
  StateWriter& text(const std::string& v);  // one line; newlines become spaces
  StateWriter& common(const StudyCommon& c);  // images, skipped, clean_correct, timings
  const std::string& str() const { return out_; }

 private:
  std::string out_;
};

// Every read throws InputError(where, ...) when the text ends or a line
// does not parse: a damaged checkpoint, never a crash.
class StateReader {
 public:
  StateReader(const std::string& text, std::string where);
  std::size_t count();
  double num();
  std::string text();
  void common(StudyCommon& c);  // what StateWriter::common wrote, into c
  void done();  // InputError unless everything was read

 private:
  std::string line();
  std::string text_, where_;
  std::size_t pos_ = 0;
};

// Before a study's loop: restores c and the rows (read_rows(reader)) from
// the checkpoint's saved state and returns the image to start from; 0 and
// nothing restored when there is no checkpoint or no saved state.
template <class ReadRows>
std::size_t resume_point(StudyCheckpoint* checkpoint, StudyCommon& c, ReadRows read_rows) {
  if (!checkpoint) return 0;
  const std::string saved = checkpoint->load();
  if (saved.empty()) return 0;
  StateReader in(saved, checkpoint->name());
  const std::size_t next = in.count();
  in.common(c);
  read_rows(in);
  in.done();
  return next;
}

// After each finished batch: every image before `next` is done.
template <class WriteRows>
void save_point(StudyCheckpoint* checkpoint, std::size_t next, const StudyCommon& c, WriteRows write_rows) {
  if (!checkpoint) return;
  StateWriter out;
  out.count(next).common(c);
  write_rows(out);
  checkpoint->save(out.str());
}

}  // namespace lmask::study
