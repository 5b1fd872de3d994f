// partial_state.h — a study's counts and sums as text, for its checkpoint
// (lmask/study.h, StudyCheckpoint) and its shard file (shard_file.h).
// Internal to src/studies.
//
// One value per line: counts in decimal, doubles as C99 hexadecimal floats
// ("%a"), which print and parse exactly, so that a resumed run continues
// every sum from the very same value and a merge adds up the very same
// values, and the CSV matches an uninterrupted single-process run byte for
// byte. Not a general file format: the reader expects exactly what the same
// study's writer wrote, and a run with other settings never reads it (the
// callers check a settings line first).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "lmask/exact_sum.h"
#include "lmask/study.h"

namespace lmask::study {

class StateWriter {
 public:
  StateWriter& count(std::size_t v);
  StateWriter& num(double v);
  StateWriter& sum(const ExactSum& v);        // its parts: exact
  StateWriter& text(const std::string& v);    // one line; newlines become spaces
  StateWriter& common(const StudyCommon& c);  // images, skipped, clean_correct, timings
  const std::string& str() const { return out_; }

 private:
  std::string out_;
};

// Every read throws InputError(where, ...) when the text ends or a line
// does not parse: a damaged file, never a crash.
class StateReader {
 public:
  StateReader(const std::string& text, std::string where);
  std::size_t count();
  double num();
  ExactSum sum();
  std::string text();
  // What StateWriter::common wrote, added to c (counts and timings; a
  // fresh c is thus restored). InputError when the methods differ.
  void add_common(StudyCommon& c);
  void done();  // InputError unless everything was read
  const std::string& where() const { return where_; }

 private:
  std::string line();
  std::string text_, where_;
  std::size_t pos_ = 0;
};

}  // namespace lmask::study
