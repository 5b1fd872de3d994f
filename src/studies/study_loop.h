// study_loop.h — the loop every study runs: the images of its shard in
// batches, unreadable images stopped at or skipped, the checkpoint resumed
// from and saved after every batch, the progress bar moved. Each study
// supplies only what it does with a batch. Internal to src/studies.
#pragma once

#include <algorithm>
#include <stdexcept>
#include <string>

#include "lmask/dataset.h"
#include "lmask/error.h"
#include "lmask/study.h"
#include "partial_state.h"
#include "result_checks.h"
#include "study_common.h"
#include "study_result.h"

namespace lmask::study {

// The images [first, end) of shard i of n: the run's `planned` images cut
// into units of `unit` (a study's batch), and the units dealt out in n
// contiguous runs as even as whole units allow, so that each image lands in
// the same batch as in a single-process run. A shard may be empty.
struct ImageRange {
  std::size_t first = 0, end = 0;
};
ImageRange shard_images(std::size_t planned, std::size_t unit, const StudyShard& shard);

// The `unit` each study's loop takes: one image for lime (each image has its
// own segmentation, lime.cpp), a batch for the others. for_each_batch
// checks that its caller agrees; merge needs it to know each shard's images.
inline std::size_t images_per_step(const LimeResult&, const StudySettings&) { return 1; }
template <class Result>
std::size_t images_per_step(const Result&, const StudySettings& s) {
  return std::size_t(s.batch);
}
std::size_t images_per_step(const StudyResult& r, const StudySettings& s);

// "" when a checkpoint that resumes at image `next` of `range` can hold
// the counts c: whole steps of `unit` done, each image counted once
// (studied or skipped). Else what is wrong.
std::string resume_problem(const StudyCommon& c, std::size_t next, const ImageRange& range, std::size_t unit);

// Adds a checkpoint's state (its text `saved`, from `where`) to a fresh r
// and checks it: the resume position against the counts, and every count
// against the others (result_checks.h). Returns the image to resume at.
template <class Result>
std::size_t restore_checkpoint(const std::string& saved, const std::string& where, const ImageRange& range,
                               std::size_t unit, Result& r) {
  const auto refuse = [&](const std::string& problem) {
    return InputError(where, "partial state: " + problem + " (damaged file?); delete it, or run without --resume "
                             "to start over");
  };
  StateReader in(saved, where);
  const std::size_t next = in.count();
  add_state(in, r);
  in.done();
  std::string problem = resume_problem(r.common, next, range, unit);
  if (problem.empty()) problem = result_problem(r);
  if (!problem.empty()) throw refuse(problem);
  return next;
}

// For every batch of the shard's images (`unit` at a time) that has any
// readable image: counts the images in r.common and calls body(batch, bar).
// `per_image`: the progress steps one image takes. With a checkpoint, the
// state it holds is added to r first and the loop starts where it stopped;
// r's state is checked (result_checks.h) and saved after every batch.
template <class Result, class Body>
void for_each_batch(const std::string& what, const Dataset& data, const StudySettings& s, std::size_t unit,
                    std::size_t per_image, Result& r, StudyProgress* progress, StudyCheckpoint* checkpoint,
                    Body body) {
  StudyCommon& c = r.common;
  const ImageRange range = shard_images(image_count(data, s), unit, s.shard);
  std::size_t start = range.first;
  if (unit != images_per_step(r, s)) throw std::logic_error(what + ": images_per_step disagrees with the study");
  const std::string saved = checkpoint ? checkpoint->load() : std::string();
  if (!saved.empty()) start = restore_checkpoint(saved, checkpoint->name(), range, unit, r);
  ProgressRef bar(progress);
  bar.begin(what + " " + data.description(), (range.end - range.first) * per_image);
  bar.advance((start - range.first) * per_image);
  Stopwatch total;
  for (std::size_t first = start; first < range.end; first += unit) {
    const std::size_t wanted = std::min(unit, range.end - first);
    const Batch b = load_checked_batch(data, first, wanted, s, c, bar, per_image);
    if (b.size() > 0) {
      c.images += b.size();
      body(b, bar);
    }
    c.timings.total += total.lap();
    // A non-finite sum means the model's outputs overflowed: stop at the
    // batch that did it, rather than save it and print NaN at the end.
    const std::string problem = result_problem(r);
    if (!problem.empty())
      throw InputError(data.description(), "after images " + std::to_string(first) + ".." +
                                               std::to_string(first + wanted - 1) + ": " + problem);
    if (checkpoint) {
      StateWriter out;
      out.count(first + wanted);
      write_state(out, r);
      checkpoint->save(out.str());
    }
  }
  bar.end();
  c.timings.total += total.lap();
}

}  // namespace lmask::study
