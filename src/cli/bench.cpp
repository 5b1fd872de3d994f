// bench.cpp — `lmask bench`: forward-pass throughput and peak memory.
//
// Reports images/s as the best and the median over timed iterations (the
// machines are shared and noisy) and the process's peak RSS. With
// `--method layer --remove 0,0.5,...` it times the clean forward and the
// layer-masked forward at each removed fraction in the same run, and prints
// each one's speed-up over clean next to the ideal 1/v (v: the FLOP-weighted
// fraction of conv outputs that stay visible). Compare with
// tools/bench_torch.py in the same session: ratios, not absolute times.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <random>
#include <vector>

#include <fmt/core.h>

#include "commands.h"
#include "lmask/error.h"
#include "lmask/mask_builders.h"
#include "lmask/resnet.h"

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
};

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // Linux reports KiB
}

struct Timing {
  double best = 0, median = 0;
};

Timing time_it(const std::function<void()>& run, int warmup, int iters, int batch) {
  for (int i = 0; i < warmup; ++i) run();
  std::vector<double> rates;
  for (int i = 0; i < iters; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    run();
    const std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
    rates.push_back(batch / dt.count());
  }
  std::sort(rates.begin(), rates.end());
  return {rates.back(), rates[rates.size() / 2]};
}

void report(const BenchOptions& o, const std::string& mode, double remove, double ideal,
            const Timing& t, const Timing& clean) {
  const double speedup = clean.median > 0 ? t.median / clean.median : 1.0;
  if (o.json)
    fmt::print("{{\"backend\":\"native\",\"mode\":\"{}\",\"remove\":{},\"batch\":{},\"iters\":{},"
               "\"best_images_per_s\":{:.3f},\"median_images_per_s\":{:.3f},"
               "\"speedup_vs_clean\":{:.3f},\"ideal_speedup\":{:.3f},\"peak_rss_mb\":{:.1f}}}\n",
               mode, remove, o.batch, o.iters, t.best, t.median, speedup, ideal, peak_rss_mb());
  else
    fmt::print("{:<22} remove {:4.2f}  best {:8.2f}  median {:8.2f} images/s  x{:5.2f} vs clean "
               "(ideal x{:5.2f})  peak RSS {:6.1f} MB\n",
               mode, remove, t.best, t.median, speedup, ideal, peak_rss_mb());
}

void run_bench(const BenchOptions& o) {
  const ResNet net = ResNet::load(o.weights);
  const int size = o.size > 0 ? o.size : net.meta().input_size;
  Tensor x({o.batch, 3, size, size});
  std::mt19937 rng(static_cast<std::uint32_t>(o.seed));
  std::normal_distribution<float> normal;
  for (std::size_t i = 0; i < x.numel(); ++i) x.data()[i] = normal(rng);
  if (!o.json)
    fmt::print("lmask bench: native backend, batch {} at {}x{}, {} timed iters (best and median)\n",
               o.batch, size, size, o.iters);

  const Timing clean = time_it([&] { net.forward(x); }, o.warmup, o.iters, o.batch);
  report(o, "clean", 0.0, 1.0, clean, clean);
  if (o.method == "clean") return;

  LayerMaskingOptions opt;
  opt.fill = o.method == "layer-renorm" ? Fill::renorm : Fill::neighbour_average;
  opt.execution = o.execution == "dense" ? Execution::dense : Execution::active;
  for (double f : o.remove) {
    std::vector<Mask> masks;
    for (int i = 0; i < o.batch; ++i)
      masks.push_back(random_patch_mask(size, size, o.patch, f, o.seed + 1000 + i));
    const Mask m = stack_masks(masks);
    const double ideal = 1.0 / net.conv_work(m).visible_fraction();
    const Timing t = time_it([&] { net.forward_masked(x, m, opt); }, o.warmup, o.iters, o.batch);
    report(o, o.method + "/" + o.execution, f, ideal, t, clean);
  }
}

}  // namespace

void add_bench(CLI::App& app) {
  auto o = std::make_shared<BenchOptions>();
  CLI::App* cmd = app.add_subcommand("bench", "Time the forward pass (images/s, peak RSS)");
  cmd->add_option("--weights", o->weights, "HDF5 weights")->capture_default_str();
  cmd->add_option("--batch", o->batch, "images per forward")->check(CLI::Range(1, 4096))->capture_default_str();
  cmd->add_option("--iters", o->iters, "timed iterations")->check(CLI::Range(1, 100000))->capture_default_str();
  cmd->add_option("--warmup", o->warmup, "untimed iterations first")->check(CLI::Range(0, 1000))->capture_default_str();
  cmd->add_option("--size", o->size, "input height and width (default: the weights' input size)")
      ->check(CLI::Range(32, 4096));
  cmd->add_option("--method", o->method, "clean, layer or layer-renorm")
      ->check(CLI::IsMember({"clean", "layer", "layer-renorm"}))->capture_default_str();
  cmd->add_option("--execution", o->execution, "masked execution: active or dense")
      ->check(CLI::IsMember({"active", "dense"}))->capture_default_str();
  cmd->add_option("--remove", o->remove, "removed fractions of patches, comma separated")
      ->delimiter(',')->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--patches", o->patch, "patch size in pixels")->check(CLI::Range(1, 1024))->capture_default_str();
  cmd->add_option("--seed", o->seed, "seed of inputs and masks")->capture_default_str();
  cmd->add_flag("--json", o->json, "print one JSON object per line");
  cmd->callback([o] { run_bench(*o); });
}

}  // namespace lmask::cli
