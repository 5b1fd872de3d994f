// study_outputs.cpp — a study's result as files: <out>/<study>.csv, .png
// and .json, and the directory's regenerated index.html. The three appear
// together or not at all (lmask/atomic_file.h, FileSet): all are written
// under temporary names, then the old JSON, whose presence says a run
// finished, is removed, and the CSV, the PNG and the JSON are moved in.
// Before any of it the result is checked once more (result_checks.h). The
// same writer serves a single-process run and a merge of shards, so both
// write the same bytes for the same result.
#include <filesystem>

#include "json_writer.h"
#include "lmask/atomic_file.h"
#include "lmask/error.h"
#include "lmask/image.h"
#include "lmask/lime_model.h"
#include "lmask/report.h"
#include "lmask/study.h"
#include "lmask/version.h"
#include "result_checks.h"
#include "study_common.h"
#include "study_result.h"

namespace lmask::study {

namespace {

namespace fs = std::filesystem;

JsonObject timings_json(const StudyTimings& t, double load_seconds) {
  JsonObject per_method, out;
  for (const auto& [name, seconds] : t.methods) per_method.num(name, seconds);
  out.num("load", load_seconds).num("study", t.total).num("clean_forwards", t.clean).object("methods", per_method);
  return out;
}

// S3's settings and its throughput: perturbations carried out per second of
// each method's LIME (its masked forwards, mask building and the ridge fit).
void describe_lime(JsonObject& json, const LimeResult& r) {
  JsonObject throughput, segments;
  for (const auto& [name, seconds] : r.common.timings.methods)
    throughput.num(name, rate(double(r.perturbations_per_method()), seconds));
  segments.count("min", r.segments_min).count("max", r.segments_max)
      .num("mean", rate(double(r.segments_sum), double(r.common.images)));
  std::vector<double> ks;
  for (int k : lime_ablation_ks()) ks.push_back(k);
  json.str("segmentation", r.segmentation).count("patch_size", r.common.patch)
      .str("segments_are", r.segmentation == "grid"
                               ? "patch_size x patch_size squares"
                               : "SLIC superpixels (Achanta et al. 2012), asking for as many as the patch grid has, "
                                 "compactness 10")
      .object("segments_per_image", segments).count("samples", r.samples).num("keep_prob", kLimeKeepProb)
      .num("kernel_width", kLimeKernelWidth).num("ridge_alpha", kLimeAlpha)
      .str("perturbations", "image i: perturbation_matrix(samples, segments, keep_prob, seed + i), row 0 the intact "
                            "image, the same for every method")
      .str("target", "softmax probability of the clean model's top-1 class")
      .numbers("ks", ks)
      .str("ablation", "the k segments the method's LIME ranks highest removed with layer masking (the yardstick "
                       "for every method); top1 = correct / images, mean_prob = mean target probability after it")
      .str("overlap", "Jaccard(union of the top-k segments, object mask) over images with a non-empty object mask")
      .count("perturbations_per_method", r.perturbations_per_method())
      .object("lime_perturbations_per_s", throughput)
      .str("lime_perturbations_per_s_is", "perturbations_per_method / the method's LIME seconds (building the masks, "
                                          "the batched masked forwards, the ridge fit)")
      .num("ablation_s", r.ablation_seconds);
}

void describe_common(JsonObject& json, const StudyCommon& c, bool patches) {
  json.count("images", c.images).count("skipped_images", c.skipped).count("classes", c.classes)
      .count("clean_correct", c.clean_correct).num("clean_top1", rate(c.clean_correct, c.images));
  if (patches)
    json.count("patch_size", c.patch).count("patches_per_image", c.patches)
        .str("patch_order", "image i: random_order(patches_per_image, seed + i), the same for every method");
}

// The study's own files and JSON fields; returns its timings.
StudyTimings write_study(const RemovalResult& r, const StudyRun& run, const std::string& dataset,
                         const StudyOutputs& out, JsonObject& json, FileSet& set) {
  set.add_text(out.csv, removal_csv(r));
  set.add(out.png, [&](const std::string& name) { write_png(name, removal_chart(r, dataset)); });
  describe_common(json, r.common, true);
  json.numbers("fractions", run.settings.fractions)
      .str("removed_patches", "round(fraction * patches_per_image), the first of each image's seeded patch order")
      .str("unchanged", "the masked top-1 class equals the clean model's top-1 class")
      .str("kl", "KL(clean softmax || masked softmax) = sum_c p_clean(c) * log(p_clean(c) / p_masked(c)), "
                 "natural log (nats); mean_kl = kl_sum / images");
  return r.common.timings;
}

StudyTimings write_study(const LeakageResult& r, const StudyRun&, const std::string& dataset,
                         const StudyOutputs& out, JsonObject& json, FileSet& set) {
  set.add_text(out.csv, leakage_csv(r));
  set.add(out.png, [&](const std::string& name) { write_png(name, leakage_chart(r, dataset)); });
  describe_common(json, r.common, false);
  JsonObject meaning;
  meaning.str("object", "the image with its object mask removed")
      .str("rolled", "the image with its object mask, rolled by half the image in both axes, removed")
      .str("mask-alone", "an all-background image (zeros in [0,1] pixel space) with the object mask removed");
  json.strings("conditions", leakage_conditions()).object("condition_meaning", meaning)
      .num("chance", 1.0 / r.common.classes).str("chance_is", "1 / the model's classes")
      .num("mask_alone_background", 0.0);
  return r.common.timings;
}

StudyTimings write_study(const LimeResult& r, const StudyRun&, const std::string& dataset, const StudyOutputs& out,
                         JsonObject& json, FileSet& set) {
  set.add_text(out.csv, lime_csv(r));
  set.add(out.png, [&](const std::string& name) { write_png(name, lime_picture(r, dataset)); });
  describe_common(json, r.common, false);
  describe_lime(json, r);
  return r.common.timings;
}

StudyTimings write_study(const LinearityResult& r, const StudyRun&, const std::string& dataset,
                         const StudyOutputs& out, JsonObject& json, FileSet& set) {
  set.add_text(out.csv, linearity_csv(r));
  set.add(out.png, [&](const std::string& name) { write_png(name, linearity_chart(r, dataset)); });
  describe_common(json, r.common, true);
  json.count("visible_patches", kLinearityPatches)
      .str("patches", "the first 4 ids of each image's seeded patch order; f_i: features with only patch i "
                      "visible, f_all: with all 4 visible, everything else removed")
      .str("features", "the model's features: the pooled vector its classifier reads (SqueezeNet, whose classifier "
                       "ends with the pool: that pool's output)")
      .str("mean_cosine", "mean over images of cos(sum_i f_i, f_all)")
      .str("mean_rel_l2", "mean over images of |sum_i f_i - f_all| / |f_all|; images with f_all = 0 are "
                          "counted in zero_feature_images and left out");
  return r.common.timings;
}

}  // namespace

StudyOutputs write_outputs(const StudyRun& run, const Model& model, const Dataset& data, const StudyResult& r,
                           double load_seconds, int shards) {
  const StudySettings& s = run.settings;
  std::string problem = result_problem(r);
  const StudyCommon& c = std::visit([](const auto& result) -> const StudyCommon& { return result.common; }, r);
  if (problem.empty() && c.images + c.skipped != image_count(data, s))
    problem = std::to_string(c.images) + " images and " + std::to_string(c.skipped) + " skipped, but the run has " +
              std::to_string(image_count(data, s));
  if (!problem.empty()) throw InputError(run.out_dir, "the " + run.study + " result fails its check (" + problem + ")");
  const fs::path dir(run.out_dir);
  StudyOutputs out{(dir / (run.study + ".csv")).string(), (dir / (run.study + ".json")).string(),
                   (dir / (run.study + ".png")).string(), ""};
  JsonObject json;
  json.str("study", run.study).str("lmask_version", version()).str("weights", run.weights)
      .str("arch", model.meta().arch).count("input_size", model.meta().input_size).str("dataset", data.description())
      .str("dataset_spec", run.dataset).count("limit", s.limit).count("seed", s.seed).count("batch", s.batch)
      .strings("methods", s.methods).str("on_bad_file", s.on_bad_file == BadFilePolicy::skip ? "skip" : "stop");
  FileSet set;
  const StudyTimings timings = std::visit(
      [&](const auto& result) { return write_study(result, run, data.description(), out, json, set); }, r);
  JsonObject files;
  files.str("csv", fs::path(out.csv).filename().string()).str("png", fs::path(out.png).filename().string());
  json.object("files", files).count("shards", std::size_t(shards))
      .str("shards_are", "processes that computed the result (lmask study --shard, or mpirun ranks); the study "
                         "timings are their sum")
      .object("timings_s", timings_json(timings, load_seconds));
  set.add_text(out.json, json.text());
  set.commit();
  out.report = write_report(run.out_dir);
  return out;
}

}  // namespace lmask::study
