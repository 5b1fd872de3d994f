// result_checks.h — whether a study's result is one a run can have
// produced: every count against the others (no more hits than images, every
// row of the run's images), every sum finite. Restored checkpoints, shard
// files and finished runs all pass through here before their numbers are
// used, so a damaged or edited file is refused instead of written up as a
// result, and a model whose outputs overflow is reported rather than
// printed as NaN. Internal to src/studies.
//
// Only what every genuine run satisfies is checked: KL sums may be
// slightly negative (rounding) and cosines slightly above 1, so neither is
// bounded; probabilities, Jaccard indices and distances are exactly within
// their ranges and are.
#pragma once

#include <string>

#include "lmask/study.h"
#include "study_result.h"

namespace lmask::study {

// "" when r is sound; else what is wrong, in a few words
// ("grey at fraction 0.5: 9 correct of 4 images").
std::string result_problem(const RemovalResult& r);
std::string result_problem(const LeakageResult& r);
std::string result_problem(const LinearityResult& r);
std::string result_problem(const LimeResult& r);
std::string result_problem(const StudyResult& r);

}  // namespace lmask::study
