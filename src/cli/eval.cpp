// eval.cpp — `lmask eval`: top-1/top-5 accuracy of a model on a dataset,
// optionally with a random fraction of patches removed by a masking method.
// Progress on stderr, one JSON summary on stdout.
#include <algorithm>
#include <memory>

#include <fmt/core.h>

#include "backend_options.h"
#include "commands.h"
#include "json.h"
#include "lmask/dataset.h"
#include "lmask/error.h"
#include "lmask/finite_logits.h"
#include "lmask/image.h"
#include "lmask/mask_builders.h"
#include "lmask/masking.h"
#include "lmask/model.h"
#include "memory_check.h"
#include "number_options.h"
#include "progress.h"

namespace lmask::cli {

namespace {

struct EvalOptions {
  std::string weights = "weights/resnet50_fmnist.h5";
  std::string dataset;
  std::size_t limit = 0;  // 0: every image
  int batch = 32;
  std::string method;     // empty: the plain forward
  double remove = 0.0;
  int patches = 16;
  std::uint64_t seed = 0;
  std::string on_bad_file = "stop";
  BackendOptions backend;
};

// How many classes score strictly higher than the true one: 0 is a top-1 hit.
int rank_of_label(const float* logits, int classes, int label) {
  int rank = 0;
  for (int c = 0; c < classes; ++c) rank += logits[c] > logits[label];
  return rank;
}

// Image i of the whole run gets patch order seed + i, whatever the batching
// (and whichever images were skipped).
Mask eval_masks(const EvalOptions& o, const std::vector<std::size_t>& indices, int size) {
  std::vector<Mask> masks;
  for (std::size_t index : indices)
    masks.push_back(random_patch_mask(size, size, o.patches, o.remove, o.seed + index));
  return stack_masks(masks);
}

void run_eval(const EvalOptions& o) {
  Model model = Model::load(o.weights);
  const Weights& meta = model.meta();
  require_memory_for(model, o.batch, meta.input_size, meta.input_size, !o.method.empty(), "--batch");
  open_backend(o.backend, model);
  const auto data = open_dataset(o.dataset, meta);
  const std::size_t total = o.limit ? std::min(o.limit, data->size()) : data->size();
  const std::unique_ptr<MaskingMethod> method = o.method.empty() ? nullptr : make_masking_method(o.method);
  const BadFilePolicy on_bad_file = parse_bad_file_policy(o.on_bad_file);

  std::size_t top1 = 0, top5 = 0, skipped = 0;
  Progress progress("eval " + data->description(), total);
  for (std::size_t first = 0; first < total; first += o.batch) {
    const std::size_t wanted = std::min<std::size_t>(o.batch, total - first);
    std::vector<std::string> problems;
    Batch b = load_batch(*data, first, wanted, on_bad_file, problems);
    for (const std::string& problem : problems) progress.note("lmask: warning: " + problem + " (skipped)");
    skipped += problems.size();
    progress.advance(problems.size());
    const int count = static_cast<int>(b.size());
    if (count == 0) continue;
    Tensor logits;
    if (method) {
      logits = method->logits(model, b.images01, eval_masks(o, b.indices, meta.input_size));
    } else {
      normalize(b.images01, meta.mean, meta.std);
      logits = model.forward(b.images01);
    }
    require_finite_logits(logits, o.weights);  // a nan logit would count as a top-1 hit
    for (int i = 0; i < count; ++i) {
      if (b.labels[i] >= logits.c())
        throw InputError(b.names[i], "label " + std::to_string(b.labels[i]) + " but the model has " +
                                         std::to_string(logits.c()) + " classes");
      const int rank = rank_of_label(logits.image(i), logits.c(), b.labels[i]);
      top1 += rank == 0;
      top5 += rank < 5;
    }
    progress.advance(count);
  }
  progress.finish();
  const std::size_t images = total - skipped;  // evaluated
  const double denominator = images ? double(images) : 1.0;
  fmt::print("{{\"weights\":{},\"backend\":{},\"dataset\":{},\"method\":{},\"remove\":{},\"images\":{},"
             "\"skipped_images\":{},\"top1\":{:.6f},\"top5\":{:.6f},\"top1_correct\":{},\"top5_correct\":{},"
             "\"seconds\":{:.3f}}}\n",
             json_string(o.weights), json_string(model.backend_name()), json_string(data->description()),
             json_string(method ? method->name() : "none"), method ? o.remove : 0.0, images, skipped,
             top1 / denominator, top5 / denominator, top1, top5, progress.seconds());
}

}  // namespace

void add_eval(CLI::App& app) {
  auto o = std::make_shared<EvalOptions>();
  CLI::App* cmd = app.add_subcommand("eval", "Top-1/top-5 accuracy on a dataset (JSON on stdout)");
  cmd->add_option("--weights", o->weights, "HDF5 weights")->capture_default_str();
  cmd->add_option("--dataset", o->dataset, "fmnist:test, fmnist:train[:DIR] or folder:ROOT[,masks=DIR]")
      ->required();
  cmd->add_option("--limit", o->limit, "evaluate the first N images only (0: all)")
      ->transform(Unsigned<std::size_t>())->capture_default_str();
  cmd->add_option("--batch", o->batch, "images per forward")->transform(Integer(1, 4096))->capture_default_str();
  auto* method = cmd->add_option("--method", o->method,
                                 "remove random patches with this masking method (layer, grey, black, ...)");
  cmd->add_option("--remove", o->remove, "with --method: fraction of patches removed")
      ->transform(Real(0, 1))->needs(method)->capture_default_str();
  cmd->add_option("--patches", o->patches, "with --method: patch size in pixels")
      ->transform(Integer(1, 4096))->capture_default_str();
  cmd->add_option("--seed", o->seed, "image i gets patch order seed + i")
      ->transform(Unsigned<std::uint64_t>())->capture_default_str();
  cmd->add_option("--on-bad-file", o->on_bad_file,
                  "an unreadable image mid-run: stop, or skip it (a warning, counted in the JSON)")
      ->check(CLI::IsMember({"stop", "skip"}))->capture_default_str();
  add_backend_options(cmd, o->backend);
  cmd->callback([o] { run_eval(*o); });
}

}  // namespace lmask::cli
