// bench.cpp — `lmask bench`: forward-pass throughput and peak memory.
//
// Reports images/s as the best and the median over timed iterations (the
// machines are shared and noisy) and the process's peak RSS. Compare with
// tools/bench_torch.py run in the same session: ratios, not absolute times.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <vector>

#include <fmt/core.h>

#include "commands.h"
#include "lmask/error.h"
#include "lmask/resnet.h"

namespace lmask::cli {

namespace {

struct BenchOptions {
  std::string weights = "weights/resnet50_fmnist.h5";
  int batch = 1, iters = 10, warmup = 2, size = 0;
  bool json = false;
};

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // Linux reports KiB
}

void run_bench(const BenchOptions& o) {
  const ResNet net = ResNet::load(o.weights);
  const int size = o.size > 0 ? o.size : net.meta().input_size;
  Tensor x({o.batch, 3, size, size});
  std::mt19937 rng(0);
  std::normal_distribution<float> normal;
  for (std::size_t i = 0; i < x.numel(); ++i) x.data()[i] = normal(rng);

  for (int i = 0; i < o.warmup; ++i) net.forward(x);
  std::vector<double> rates;
  for (int i = 0; i < o.iters; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    net.forward(x);
    const std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
    rates.push_back(o.batch / dt.count());
  }
  std::sort(rates.begin(), rates.end());
  const double best = rates.back(), median = rates[rates.size() / 2];
  if (o.json)
    fmt::print("{{\"backend\":\"native\",\"batch\":{},\"size\":{},\"iters\":{},"
               "\"best_images_per_s\":{:.3f},\"median_images_per_s\":{:.3f},\"peak_rss_mb\":{:.1f}}}\n",
               o.batch, size, o.iters, best, median, peak_rss_mb());
  else
    fmt::print("lmask native batch {} at {}x{}: best {:.2f} images/s, median {:.2f} images/s "
               "over {} iters; peak RSS {:.1f} MB\n",
               o.batch, size, size, best, median, o.iters, peak_rss_mb());
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
  cmd->add_flag("--json", o->json, "print one JSON object");
  cmd->callback([o] { run_bench(*o); });
}

}  // namespace lmask::cli
