// study_file_checks.cpp — the checks merge and --resume make on a study's
// own files, callable on their own (lmask/study.h; the fuzz target's entry).
#include "lmask/study.h"
#include "shard_file.h"
#include "study_common.h"
#include "study_loop.h"
#include "study_result.h"

namespace lmask {

void check_shard_file(const ShardText& shard, const Model& model, const Dataset& data) {
  study::ShardFile f = study::parse_shard_file(shard);
  study::StudyResult total = study::empty_result(f.run.study, model, f.run.settings);
  study::add_checked_shard(f, model, data, total);
}

std::size_t check_checkpoint_state(const std::string& study, const StudySettings& s, const Model& model,
                                   const Dataset& data, const std::string& state, const std::string& where) {
  study::StudyResult r = study::empty_result(study, model, s);
  return std::visit(
      [&](auto& result) {
        const std::size_t unit = study::images_per_step(result, s);
        const study::ImageRange range = study::shard_images(study::image_count(data, s), unit, s.shard);
        return study::restore_checkpoint(state, where, range, unit, result);
      },
      r);
}

}  // namespace lmask
