// study_loop.h — the loop every study runs: the images of its shard in
// batches, unreadable images stopped at or skipped, the checkpoint resumed
// from and saved after every batch, the progress bar moved. Each study
// supplies only what it does with a batch. Internal to src/studies.
#pragma once

#include <algorithm>
#include <string>

#include "lmask/dataset.h"
#include "lmask/error.h"
#include "lmask/study.h"
#include "partial_state.h"
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

// For every batch of the shard's images (`unit` at a time) that has any
// readable image: counts the images in r.common and calls body(batch, bar).
// `per_image`: the progress steps one image takes. With a checkpoint, the
// state it holds is added to r first and the loop starts where it stopped;
// r's state is saved after every batch.
template <class Result, class Body>
void for_each_batch(const std::string& what, const Dataset& data, const StudySettings& s, std::size_t unit,
                    std::size_t per_image, Result& r, StudyProgress* progress, StudyCheckpoint* checkpoint,
                    Body body) {
  StudyCommon& c = r.common;
  const ImageRange range = shard_images(image_count(data, s), unit, s.shard);
  std::size_t start = range.first;
  const std::string saved = checkpoint ? checkpoint->load() : std::string();
  if (!saved.empty()) {
    StateReader in(saved, checkpoint->name());
    start = in.count();
    if (start < range.first || start > range.end)
      throw InputError(checkpoint->name(), "partial state: image " + std::to_string(start) +
                                               " is outside this run's images (damaged file?)");
    add_state(in, r);
    in.done();
  }
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
