// bench.cpp — `lmask bench`: forward-pass throughput and peak memory.
//
// Reports images/s as the best and the median over timed iterations (the
// machines are shared and noisy) and the process's peak RSS. With
// `--method layer --remove 0,0.5,...` it times the clean forward and the
// layer-masked forward at each removed fraction in the same run, and prints
// each one's speed-up over clean next to the ideal 1/v (v: the FLOP-weighted
// fraction of conv outputs that stay visible). Compare with
// tools/bench_torch.py in the same session: ratios, not absolute times.
// Clean and masked forwards both run on --backend.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <random>
#include <vector>

#include <fmt/core.h>

#include "backend_options.h"
#include "commands.h"
#include "lmask/error.h"
#include "lmask/mask_builders.h"
#include "lmask/model.h"
#include "memory_check.h"
#include "number_options.h"

namespace lmask::cli {

namespace {

struct BenchOptions {
  std::string weights = "weights/resnet50_fmnist.h5";
  int batch = 1, iters = 10, warmup = 2, size = 0, patch = 16;
  std::string method = "clean";   // clean | layer | layer-renorm
  std::string execution = "active";
  std::vector<double> remove{0.0, 0.5, 0.75, 0.9};
  std::uint64_t seed = 0;
  bool json = false;
  BackendOptions backend;
};

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // Linux reports KiB
}

struct Timing {
  double best = 0, median = 0;
};

// One configuration to time: a name, its removed fraction, ideal speed-up,
// and the forward pass to run.
struct Config {
  std::string mode, backend;
  double remove = 0, ideal = 1;
  std::function<void()> run;
  std::vector<double> rates;
};

// Times every configuration in interleaved rounds (clean, F1, F2, ..., then
// again), so that a load change on a shared machine hits all of them alike.
void time_interleaved(std::vector<Config>& configs, int warmup, int iters, int batch) {
  for (int i = 0; i < warmup; ++i)
    for (Config& c : configs) c.run();
  for (int i = 0; i < iters; ++i)
    for (Config& c : configs) {
      const auto t0 = std::chrono::steady_clock::now();
      c.run();
      const std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
      c.rates.push_back(batch / dt.count());
    }
}

Timing summarize(std::vector<double> rates) {
  std::sort(rates.begin(), rates.end());
  return {rates.back(), rates[rates.size() / 2]};
}

void report(const BenchOptions& o, const Config& c, const Timing& clean) {
  const Timing t = summarize(c.rates);
  const double speedup = t.median / clean.median;
  if (o.json)
    fmt::print("{{\"backend\":\"{}\",\"threads\":{},\"mode\":\"{}\",\"remove\":{},\"batch\":{},\"iters\":{},"
               "\"best_images_per_s\":{:.3f},\"median_images_per_s\":{:.3f},"
               "\"speedup_vs_clean\":{:.3f},\"ideal_speedup\":{:.3f},\"peak_rss_mb\":{:.1f}}}\n",
               c.backend, threads(), c.mode, c.remove, o.batch, o.iters, t.best, t.median, speedup, c.ideal,
               peak_rss_mb());
  else
    fmt::print("{:<7} {:<22} remove {:4.2f}  best {:8.2f}  median {:8.2f} images/s  x{:5.2f} vs clean "
               "(ideal x{:5.2f})\n",
               c.backend, c.mode, c.remove, t.best, t.median, speedup, c.ideal);
}

void run_bench(const BenchOptions& o) {
  Model model = Model::load(o.weights);
  const int size = o.size > 0 ? o.size : model.meta().input_size;
  require_memory_for(model, o.batch, size, size, o.method != "clean", "--batch");
  open_backend(o.backend, model);
  const std::string backend = model.backend_name();
  Tensor x({o.batch, 3, size, size});
  std::mt19937 rng(static_cast<std::uint32_t>(o.seed));
  std::normal_distribution<float> normal;
  for (std::size_t i = 0; i < x.numel(); ++i) x.data()[i] = normal(rng);

  std::vector<Config> configs;
  configs.push_back({"clean", backend, 0.0, 1.0, [&] { model.forward(x); }, {}});
  LayerMaskingOptions opt;
  opt.fill = o.method == "layer-renorm" ? Fill::renorm : Fill::neighbour_average;
  opt.execution = o.execution == "dense" ? Execution::dense : Execution::active;
  std::vector<Mask> masks;  // one batch of masks per removed fraction
  if (o.method != "clean")
    for (double f : o.remove) {
      std::vector<Mask> per_image;
      for (int i = 0; i < o.batch; ++i)
        per_image.push_back(random_patch_mask(size, size, o.patch, f, o.seed + 1000 + i));
      masks.push_back(stack_masks(per_image));
    }
  for (std::size_t i = 0; i < masks.size(); ++i) {
    const Mask* m = &masks[i];
    configs.push_back({o.method + "/" + o.execution, backend, o.remove[i], 1.0 / model.conv_work(*m).visible_fraction(),
                       [&model, &x, m, opt] { model.forward_masked(x, *m, opt); }, {}});
  }
  time_interleaved(configs, o.warmup, o.iters, o.batch);

  if (!o.json)
    fmt::print("lmask bench: {} backend, {} threads, "
               "batch {} at {}x{}, {} interleaved rounds (best and median images/s); peak RSS {:.1f} MB\n",
               backend, threads(), o.batch, size, size, o.iters, peak_rss_mb());
  const Timing clean = summarize(configs.front().rates);
  for (const Config& c : configs) report(o, c, clean);
}

}  // namespace

void add_bench(CLI::App& app) {
  auto o = std::make_shared<BenchOptions>();
  CLI::App* cmd = app.add_subcommand("bench", "Time the forward pass (images/s, peak RSS)");
  cmd->add_option("--weights", o->weights, "HDF5 weights")->capture_default_str();
  cmd->add_option("--batch", o->batch, "images per forward")->transform(Integer(1, 4096))->capture_default_str();
  cmd->add_option("--iters", o->iters, "timed iterations")->transform(Integer(1, 100000))->capture_default_str();
  cmd->add_option("--warmup", o->warmup, "untimed iterations first")->transform(Integer(0, 1000))->capture_default_str();
  cmd->add_option("--size", o->size, "input height and width (default: the weights' input size)")
      ->transform(Integer(32, 4096));
  cmd->add_option("--method", o->method, "clean, layer or layer-renorm")
      ->check(CLI::IsMember({"clean", "layer", "layer-renorm"}))->capture_default_str();
  cmd->add_option("--execution", o->execution, "masked execution: active or dense")
      ->check(CLI::IsMember({"active", "dense"}))->capture_default_str();
  cmd->add_option("--remove", o->remove, "removed fractions of patches, comma separated")
      ->delimiter(',')->transform(Real(0, 1));
  cmd->add_option("--patches", o->patch, "patch size in pixels")->transform(Integer(1, 1024))->capture_default_str();
  cmd->add_option("--seed", o->seed, "seed of inputs and masks")
      ->transform(Unsigned<std::uint64_t>())->capture_default_str();
  cmd->add_flag("--json", o->json, "print one JSON object per line");
  add_backend_options(cmd, o->backend);
  cmd->callback([o] { run_bench(*o); });
}

}  // namespace lmask::cli
