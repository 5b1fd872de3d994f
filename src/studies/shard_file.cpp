// shard_file.cpp — see shard_file.h.
#include "shard_file.h"

#include "lmask/error.h"

namespace lmask::study {

namespace {

constexpr const char* kMagic = "lmask-study-shard 1";

}  // namespace

std::string shard_file_text(const StudyRun& run, const std::string& identity, const StudyResult& r) {
  const StudySettings& s = run.settings;
  StateWriter out;
  out.text(kMagic).text(identity);
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
  return out.str();
}

ShardFile parse_shard_file(const ShardText& shard) {
  if (shard.text.compare(0, shard.text.find('\n'), kMagic) != 0)
    throw InputError(shard.name, "not a study shard file (its first line is not '" + std::string(kMagic) + "')");
  ShardFile f{shard.name, "", {}, StateReader(shard.text, shard.name)};
  StateReader& in = f.state;
  in.text();  // the magic line
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
  s.segmentation = in.text();
  s.samples = small(in.count(), "samples");
  s.on_bad_file = parse_bad_file_policy(in.text());
  return f;
}

}  // namespace lmask::study
