// explain.cpp — `lmask explain`: LIME for one image with one masking method.
// Writes the image (as the model sees it, the model's input size) tinted by
// the explanation, and prints the top-ranked segments. The LIME itself is
// src/lime (lime.h, lime_model.h); this file parses options, checks input
// and reports. Progress on stderr.
#include <algorithm>
#include <filesystem>
#include <memory>

#include <fmt/core.h>

#include "commands.h"
#include "lmask/error.h"
#include "lmask/finite_logits.h"
#include "lmask/image.h"
#include "lmask/lime.h"
#include "lmask/lime_model.h"
#include "lmask/masking.h"
#include "lmask/model.h"
#include "lmask/study.h"
#include "memory_check.h"
#include "number_options.h"
#include "progress.h"

namespace lmask::cli {

namespace {

struct ExplainOptions {
  std::string weights = "weights/resnet50_fmnist.h5";
  std::string image, out;
  std::string method = "layer";
  std::string segmentation = "grid";
  int samples = kLimeDefaultSamples;
  std::uint64_t seed = 0;
  int patches = 0;  // 0: 16 px at 224, scaled to the model
  int batch = 32;
  int top = 5;
};

// The output's folder must exist: found out now, not after the forwards.
void check_out_path(const std::string& out) {
  const std::filesystem::path parent = std::filesystem::path(out).parent_path();
  std::error_code ec;
  if (!parent.empty() && !std::filesystem::is_directory(parent, ec))
    throw InputError(out, "the folder '" + parent.string() + "' does not exist");
}

void run_explain(const ExplainOptions& o) {
  const SegmentationKind kind = parse_segmentation_kind(o.segmentation);
  if (o.method != "segment-mean") make_masking_method(o.method);  // unknown names fail before loading
  check_out_path(o.out);

  const ImageU8 raw = read_image(o.image);
  const Model model = Model::load(o.weights);
  const Weights& meta = model.meta();
  require_memory_for(model, o.batch, meta.input_size, meta.input_size, true, "--batch");
  const Tensor img01 = preprocess_01(raw, meta.resize_size, meta.input_size, o.image);
  const int patch = o.patches ? o.patches : default_patch_size(meta.input_size);
  const Segmentation seg = make_segmentation(kind, img01, patch);

  Tensor x = img01.clone();
  normalize(x, meta.mean, meta.std);
  const Tensor clean = model.forward(x);
  require_finite_logits(clean, o.weights);
  const std::vector<double> p = softmax(clean, 0);
  const int top = static_cast<int>(std::max_element(p.begin(), p.end()) - p.begin());

  const auto method = o.method == "segment-mean" ? make_segment_mean_method(seg) : make_masking_method(o.method);
  const std::vector<std::uint8_t> z = perturbation_matrix(o.samples, seg.count, kLimeKeepProb, o.seed);
  Progress progress("explain " + o.method, std::size_t(o.samples));
  const MaskTarget probability = class_probability_target(model, *method, img01, top);
  const LimeExplanation e = explain_with(
      [&](const std::vector<Mask>& masks) {
        auto scores = probability(masks);
        require_finite_scores(scores, o.weights);  // a nan would poison every coefficient
        progress.advance(masks.size());
        return scores;
      },
      seg, z, o.samples, kLimeKernelWidth, kLimeAlpha, o.batch);
  progress.finish();
  write_png(o.out, heatmap_overlay(img01, seg, e.coefficients));

  const std::string name = std::size_t(top) < meta.class_names.size() ? " (" + meta.class_names[top] + ")" : "";
  const std::string cut = kind == SegmentationKind::grid ? fmt::format("a grid of {} px squares", patch)
                                                         : std::string("SLIC superpixels");
  fmt::print("{}: top-1 class {}{}, p = {:.4f}; LIME with {} masking on {} ({} segments), {} perturbations, seed {}\n",
             o.image, top, name, p[top], o.method, cut, seg.count, o.samples, o.seed);
  std::vector<std::size_t> pixels(seg.count, 0);
  for (int id : seg.labels) ++pixels[id];
  fmt::print("rank  segment  coefficient  pixels\n");
  for (int r = 0; r < std::min(o.top, seg.count); ++r) {
    const int id = e.ranking[r];
    fmt::print("{:>4}  {:>7}  {:>+11.6f}  {:>6}\n", r + 1, id, e.coefficients[id], pixels[id]);
  }
  fmt::print("wrote {}\n", o.out);
}

}  // namespace

void add_explain(CLI::App& app) {
  auto o = std::make_shared<ExplainOptions>();
  CLI::App* cmd = app.add_subcommand(
      "explain", "LIME heat map of the model's top-1 class for one image, perturbations carried out by a masking method");
  cmd->add_option("image", o->image, "PNG or JPEG image")->required();
  cmd->add_option("--out", o->out, "PNG to write: the image (at the model's input size) with its heat map")
      ->required();
  cmd->add_option("--weights", o->weights, "HDF5 weights")->capture_default_str();
  cmd->add_option("--method", o->method, "masking method (layer, grey, blur, ..., segment-mean)")
      ->capture_default_str();
  cmd->add_option("--segmentation", o->segmentation, "grid (patch x patch squares) or slic (superpixels)")
      ->capture_default_str();
  cmd->add_option("--samples", o->samples, "LIME perturbations, the intact image included")
      ->transform(Integer(2, 1 << 20))->capture_default_str();
  cmd->add_option("--seed", o->seed, "seed of the perturbations")
      ->transform(Unsigned<std::uint64_t>())->capture_default_str();
  cmd->add_option("--patches", o->patches, "grid patch size in pixels (default: 16 at 224 px, scaled to the model)")
      ->transform(Integer(1, 4096));
  cmd->add_option("--batch", o->batch, "perturbations per forward")->transform(Integer(1, 4096))->capture_default_str();
  cmd->add_option("--top", o->top, "top-ranked segments to print")->transform(Integer(0, 1 << 20))
      ->capture_default_str();
  cmd->callback([o] { run_explain(*o); });
}

}  // namespace lmask::cli
