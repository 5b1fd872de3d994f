// plan.cpp — `lmask plan --weights W --input HxW [--batch N]`: the embedded
// forward's static memory plan (embedded.h) for a model and input size:
// the weights as loaded (float32, BatchNorm folded), the arena the
// layer-masked forward runs in (the clean forward's too), and their sum,
// the peak of an embedded run. W is an HDF5 or a .lmw file.
#include <memory>

#include <fmt/core.h>

#include "commands.h"
#include "lmask/embedded.h"
#include "lmask/error.h"
#include "lmask/model.h"
#include "lmask/parse_number.h"
#include "lmask/resnet.h"
#include "number_options.h"

namespace lmask::cli {

void add_plan(CLI::App& app) {
  struct Options {
    std::string weights, input = "224x224";
    int batch = 1;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("plan", "Print the embedded forward's memory plan: weights, arena, peak");
  cmd->add_option("--weights", o->weights, "HDF5 or .lmw weights")->required();
  cmd->add_option("--input", o->input, "input size HxW (default 224x224)");
  cmd->add_option("--batch", o->batch, "images per forward (default 1)")->transform(Integer(1, 4096));
  cmd->callback([o] {
    const std::size_t x = o->input.find('x');
    const auto h = strict_integer(o->input.substr(0, x), 1, kMaxInputSize);
    const auto w = strict_integer(x == std::string::npos ? "" : o->input.substr(x + 1), 1, kMaxInputSize);
    if (!h || !w)
      throw InputError("--input", "'" + o->input + "': expected HxW, each " + expected_integer(1, kMaxInputSize));
    const Model model = Model::load(o->weights);  // HDF5 or .lmw
    const ResNet* net = model.resnet();  // embedded: takes the Graph once arena_forward is a graph forward
    if (!net) throw InputError(o->weights, "the embedded arena forward runs ResNets only, and this model is not one");
    ArenaPlan masked, clean;
    try {
      masked = plan_arena(*net, o->batch, *h, *w, true);
      clean = plan_arena(*net, o->batch, *h, *w, false);
    } catch (const std::invalid_argument& e) {
      throw InputError("--input", e.what());
    }
    auto mb = [](std::size_t b) { return double(b) / 1e6; };
    fmt::print("model:   {} ({}, {} classes), input {}x3x{}x{}\n", o->weights, model.meta().arch,
               model.num_classes(), o->batch, *h, *w);
    fmt::print("weights: {} bytes ({:.1f} MB, float32 as loaded, BatchNorm folded)\n", masked.weight_bytes,
               mb(masked.weight_bytes));
    fmt::print("arena:   {} bytes ({:.1f} MB) layer-masked forward; {} bytes ({:.1f} MB) clean only\n",
               masked.arena_bytes, mb(masked.arena_bytes), clean.arena_bytes, mb(clean.arena_bytes));
    fmt::print("peak:    {} bytes ({:.1f} MB) = weights + arena\n", masked.weight_bytes + masked.arena_bytes,
               mb(masked.weight_bytes + masked.arena_bytes));
    for (int s = 0; s < kSlotCount; ++s)
      if (masked.floats[s])
        fmt::print("  slot {:<12} {:>10} bytes at {}\n", arena_slot_name(s), masked.floats[s] * sizeof(float),
                   masked.offset[s]);
  });
}

}  // namespace lmask::cli
