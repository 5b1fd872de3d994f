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
#include "lmask/image.h"
#include "lmask/mask_builders.h"
#include "lmask/masking.h"
#include "lmask/resnet.h"
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
  BackendOptions backend;
};

// How many classes score strictly higher than the true one: 0 is a top-1 hit.
int rank_of_label(const float* logits, int classes, int label) {
  int rank = 0;
  for (int c = 0; c < classes; ++c) rank += logits[c] > logits[label];
  return rank;
}

// Image i of the whole run gets patch order seed + i, whatever the batching.
Mask eval_masks(const EvalOptions& o, std::size_t first, int count, int size) {
  std::vector<Mask> masks;
  for (int i = 0; i < count; ++i)
    masks.push_back(random_patch_mask(size, size, o.patches, o.remove, o.seed + first + i));
  return stack_masks(masks);
}

void run_eval(const EvalOptions& o) {
  const ResNet net = ResNet::load(o.weights);
  const auto backend = open_backend(o.backend, net);  // the clean forward; masked ones run native
  const Weights& meta = net.meta();
  const auto data = open_dataset(o.dataset, meta);
  const std::size_t total = o.limit ? std::min(o.limit, data->size()) : data->size();
  const std::unique_ptr<MaskingMethod> method = o.method.empty() ? nullptr : make_masking_method(o.method);

  std::size_t top1 = 0, top5 = 0;
  Progress progress("eval " + data->description(), total);
  for (std::size_t first = 0; first < total; first += o.batch) {
    const int count = static_cast<int>(std::min<std::size_t>(o.batch, total - first));
    Batch b = load_batch(*data, first, count);
    Tensor logits;
    if (method) {
      logits = method->logits(net, b.images01, eval_masks(o, first, count, meta.input_size));
    } else {
      normalize(b.images01, meta.mean, meta.std);
      logits = backend->forward(b.images01);
    }
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
  fmt::print("{{\"weights\":{},\"backend\":{},\"dataset\":{},\"method\":{},\"remove\":{},\"images\":{},"
             "\"top1\":{:.6f},\"top5\":{:.6f},\"top1_correct\":{},\"top5_correct\":{},\"seconds\":{:.3f}}}\n",
             json_string(o.weights), json_string(method ? "native" : backend->name()), json_string(data->description()),
             json_string(method ? method->name() : "none"), method ? o.remove : 0.0, total,
             double(top1) / total, double(top5) / total, top1, top5, progress.seconds());
}

}  // namespace

void add_eval(CLI::App& app) {
  auto o = std::make_shared<EvalOptions>();
  CLI::App* cmd = app.add_subcommand("eval", "Top-1/top-5 accuracy on a dataset (JSON on stdout)");
  cmd->add_option("--weights", o->weights, "HDF5 weights")->capture_default_str();
  cmd->add_option("--dataset", o->dataset, "fmnist:test, fmnist:train[:DIR] or folder:ROOT[,masks=DIR]")
      ->required();
  cmd->add_option("--limit", o->limit, "evaluate the first N images only (0: all)")->capture_default_str();
  cmd->add_option("--batch", o->batch, "images per forward")->check(CLI::Range(1, 4096))->capture_default_str();
  auto* method = cmd->add_option("--method", o->method,
                                 "remove random patches with this masking method (layer, grey, black, ...)");
  cmd->add_option("--remove", o->remove, "with --method: fraction of patches removed")
      ->check(CLI::Range(0.0, 1.0))->needs(method)->capture_default_str();
  cmd->add_option("--patches", o->patches, "with --method: patch size in pixels")
      ->check(CLI::Range(1, 4096))->capture_default_str();
  cmd->add_option("--seed", o->seed, "image i gets patch order seed + i")->capture_default_str();
  add_backend_options(cmd, o->backend);
  cmd->callback([o] { run_eval(*o); });
}

}  // namespace lmask::cli
