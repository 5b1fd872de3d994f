// shard_file.cpp — see shard_file.h.
#include "shard_file.h"

#include "lmask/error.h"
#include "result_checks.h"
#include "sealed_text.h"
#include "study_common.h"
#include "study_loop.h"

namespace lmask::study {

namespace {

// 2: the checksum line (sealed_text.h).
constexpr StudyFileFormat kFormat{"lmask-study-shard", 2, "study shard file"};
constexpr const char* kFix = "rerun the shard that wrote it (lmask study ... --shard i/n)";
// Rows are laid out before the state is read: methods x fractions is bounded
// first, so that a damaged count cannot allocate gigabytes.
constexpr std::size_t kMaxRows = std::size_t(1) << 20;

}  // namespace

std::string shard_file_text(const StudyRun& run, const std::string& identity, const StudyResult& r) {
  const StudySettings& s = run.settings;
  StateWriter out;
  out.text(identity);
  out.count(std::size_t(s.shard.index)).count(std::size_t(s.shard.count));
  out.text(run.study).text(run.weights).text(run.dataset);
  out.count(s.limit).count(s.seed).count(std::size_t(s.batch)).count(std::size_t(s.patch));
  out.count(s.methods.size());
  for (const auto& m : s.methods) out.text(m);
  out.count(s.fractions.size());
  for (double f : s.fractions) out.num(f);
  out.text(s.segmentation).count(std::size_t(s.samples));
  out.text(s.on_bad_file == BadFilePolicy::skip ? "skip" : "stop");
  write_state(out, r);
  return sealed_text(kFormat, out.str());
}

ShardFile parse_shard_file(const ShardText& shard) {
  // Unsealed before f is built: GCC 12 frees the members already built
  // twice when an aggregate's initializer throws (seen as a double free).
  const std::string body = unsealed_text(shard.text, kFormat, shard.name, kFix);
  ShardFile f{shard.name, "", {}, StateReader(body, shard.name)};
  StateReader& in = f.state;
  f.identity = in.text();
  StudySettings& s = f.run.settings;
  // Counts are range-checked where an int takes them: a damaged file is an
  // error, never a huge loop.
  auto small = [&](std::size_t v, const char* what, std::size_t max = std::size_t(1) << 30) {
    if (v > max) throw InputError(shard.name, std::string("shard file: ") + what + " out of range");
    return static_cast<int>(v);
  };
  s.shard.index = small(in.count(), "shard index");
  s.shard.count = small(in.count(), "shard count");
  if (s.shard.count < 1 || s.shard.index >= s.shard.count)
    throw InputError(shard.name, "shard file: shard " + std::to_string(s.shard.index) + " of " +
                                     std::to_string(s.shard.count) + " (damaged file?)");
  f.run.study = in.text();
  f.run.weights = in.text();
  f.run.dataset = in.text();
  s.limit = in.count();
  s.seed = in.count();
  s.batch = small(in.count(), "batch");
  s.patch = small(in.count(), "patch");
  s.methods.resize(small(in.count(), "method count", 1 << 16));
  for (auto& m : s.methods) m = in.text();
  s.fractions.resize(small(in.count(), "fraction count", 1 << 16));
  for (double& v : s.fractions) v = in.num();
  if (s.methods.size() * s.fractions.size() > kMaxRows)
    throw InputError(shard.name, "shard file: " + std::to_string(s.methods.size()) + " methods and " +
                                     std::to_string(s.fractions.size()) + " fractions (damaged file?)");
  s.segmentation = in.text();
  s.samples = small(in.count(), "samples");
  s.on_bad_file = parse_bad_file_policy(in.text());
  return f;
}

// Adds shard f's state to `total` once it is checked by itself: every
// count against the others, and the images it counts (studied or skipped)
// against those its part of the run has.
void add_checked_shard(ShardFile& f, const Model& model, const Dataset& data, StudyResult& total) {
  const StudySettings& s = f.run.settings;
  const std::string shard_name = std::to_string(s.shard.index) + "/" + std::to_string(s.shard.count);
  StudyResult mine = empty_result(f.run.study, model, s);
  StateReader copy = f.state;
  add_state(copy, mine);
  copy.done();
  std::string problem = result_problem(mine);
  const ImageRange range =
      shard_images(image_count(data, s), images_per_step(mine, s), s.shard);
  const StudyCommon& c = std::visit([](const auto& r) -> const StudyCommon& { return r.common; }, mine);
  if (problem.empty() && c.images + c.skipped != range.end - range.first)
    problem = std::to_string(c.images) + " images and " + std::to_string(c.skipped) + " skipped, but shard " +
              shard_name + " has " + std::to_string(range.end - range.first) + " from image " +
              std::to_string(range.first);
  if (!problem.empty())
    throw InputError(f.name, "shard file: " + problem + " (damaged file?); rerun shard " + shard_name);
  add_state(f.state, total);
  f.state.done();
}

}  // namespace lmask::study
