// plan.cpp — `lmask plan --weights W --input HxW [--batch N]`: the embedded
// forward's static memory plan (embedded.h) for a model and input size:
// the weights as loaded (float32, BatchNorm folded), the arena the
// layer-masked forward runs in (the clean forward's too), their sum, the
// peak of an embedded run, and node by node where the layer-masked
// forward's buffers lie. W is an HDF5 or a .lmw file.
#include <memory>
#include <string>

#include <fmt/core.h>

#include "commands.h"
#include "lmask/embedded.h"
#include "lmask/error.h"
#include "lmask/model.h"
#include "lmask/parse_number.h"
#include "number_options.h"

namespace lmask::cli {

namespace {

// "value 3211264 B at 0, mask 50176 B at 8814592": the buffers node `id`
// uses, each either its own or one an earlier node made ("value in node 4's").
std::string node_buffers(const ArenaPlan& plan, int id) {
  const ArenaNode& a = plan.nodes[id];
  std::string out;
  for (const int b : {a.value, a.mask, a.columns, a.fill, a.fill_copy, a.renorm_scale}) {
    if (b < 0) continue;
    const ArenaBuffer& buffer = plan.buffers[b];
    out += out.empty() ? "" : ", ";
    out += buffer.node == id ? fmt::format("{} {} B at {}", arena_buffer_kind(buffer.kind),
                                           buffer.floats * sizeof(float), buffer.offset)
                             : fmt::format("{} in node {}'s", arena_buffer_kind(buffer.kind), buffer.node);
  }
  return out;
}

}  // namespace

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
    const Graph& graph = model.graph();           // BatchNorm folded, epilogues fused: what runs
    ArenaPlan masked, clean;
    try {
      masked = plan_arena(graph, o->batch, *h, *w, true);
      clean = plan_arena(graph, o->batch, *h, *w, false);
    } catch (const std::invalid_argument& e) {
      throw InputError("--input", e.what());
    }
    auto mb = [](std::size_t b) { return double(b) / 1e6; };
    fmt::print("model:   {} ({}, {} classes), input {}x{}x{}x{}\n", o->weights, model.meta().arch,
               model.num_classes(), o->batch, graph.in_channels, *h, *w);
    fmt::print("weights: {} bytes ({:.1f} MB, float32 as loaded, BatchNorm folded)\n", masked.weight_bytes,
               mb(masked.weight_bytes));
    fmt::print("arena:   {} bytes ({:.1f} MB) layer-masked forward; {} bytes ({:.1f} MB) clean only\n",
               masked.arena_bytes, mb(masked.arena_bytes), clean.arena_bytes, mb(clean.arena_bytes));
    fmt::print("peak:    {} bytes ({:.1f} MB) = weights + arena\n", masked.weight_bytes + masked.arena_bytes,
               mb(masked.weight_bytes + masked.arena_bytes));
    fmt::print("buffers of the layer-masked forward, node by node ({} nodes, {} buffers):\n", graph.size(),
               masked.buffers.size());
    for (int id = 0; id < graph.size(); ++id)
      if (masked.nodes[id].runs)
        fmt::print("  {:>3} {:<16} {:<22} {:<16} {}\n", id, op_name(graph.nodes[id].op),
                   graph.nodes[id].name.empty() ? "-" : graph.nodes[id].name, masked.shapes[id].str(),
                   node_buffers(masked, id));
  });
}

}  // namespace lmask::cli
