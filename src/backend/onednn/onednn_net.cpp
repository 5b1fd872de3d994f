// onednn_net.cpp — plans (primitives, weights, one arena) per input shape,
// and the run: a flat loop over prepared primitives.
#include "onednn_net.h"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "onednn_layers.h"

namespace lmask::backends::onednn {

namespace {

using dnnl::memory;

// A primitive with its arguments bound to memory of the plan.
struct Exec {
  dnnl::primitive prim;
  std::unordered_map<int, memory> args;
  void operator()(dnnl::stream& s) { prim.execute(s, args); }
};

memory::desc plain(const memory::dims& d) {
  return memory::desc(d, memory::data_type::f32, d.size() == 4 ? memory::format_tag::nchw : memory::format_tag::nc);
}

Shape shape_of(const memory::dims& d) {
  if (d.size() == 4) return {int(d[0]), int(d[1]), int(d[2]), int(d[3])};
  return {int(d[0]), int(d[1]), 1, 1};
}

std::size_t round_up(std::size_t bytes) { return (bytes + 63) / 64 * 64; }

// Which arena slot each activation lives in (-1: the caller's input) and each
// slot's size. Greedy over the SSA order: an activation takes a slot whose
// occupant was last read by an earlier layer (never its own input), the
// smallest that fits, else the largest, grown. A conv with a residual takes
// the identity's slot when the identity is read for the last time there: the
// sum post-op then adds into it in place.
struct SlotPlan {
  std::vector<int> slot;
  std::vector<std::size_t> bytes;
};

SlotPlan plan_slots(const LayerGraph& g, const std::vector<memory::desc>& md, const std::vector<int>& last_read,
                    bool input_in_place) {
  const int count = static_cast<int>(md.size());
  SlotPlan p;
  p.slot.assign(count, -1);
  std::vector<int> busy_until;  // per slot: the last layer reading its occupant
  for (int a = input_in_place ? 1 : 0; a < count; ++a) {
    const int def = a - 1;  // the layer writing it; -1: the input reorder
    const int until = std::max(last_read[a], def);
    const std::size_t bytes = round_up(md[a].get_size());
    if (a > 0) {
      const Layer& l = g.layers[def];
      const int r = l.residual;
      if (r >= 0 && r != l.src && last_read[r] == def && p.slot[r] >= 0) {
        p.slot[a] = p.slot[r];
        busy_until[p.slot[a]] = until;
        continue;
      }
    }
    int best = -1;
    for (int s = 0; s < static_cast<int>(p.bytes.size()); ++s) {
      if (busy_until[s] >= def) continue;
      if (best < 0) { best = s; continue; }
      const bool fits = p.bytes[s] >= bytes, best_fits = p.bytes[best] >= bytes;
      if (fits != best_fits ? fits : (fits ? p.bytes[s] < p.bytes[best] : p.bytes[s] > p.bytes[best])) best = s;
    }
    if (best < 0) {
      best = static_cast<int>(p.bytes.size());
      p.bytes.push_back(0);
      busy_until.push_back(0);
    }
    p.bytes[best] = std::max(p.bytes[best], bytes);
    busy_until[best] = until;
    p.slot[a] = best;
  }
  return p;
}

}  // namespace

struct OnednnNet::Plan {
  std::vector<memory::desc> md;           // per activation: its layout
  std::vector<memory> mem;                // per activation: in the arena, or the caller's input
  std::vector<std::vector<Exec>> layers;  // per layer: [copy of the identity,] the primitive
  memory input;                           // the caller's NCHW input, handle set per run
  std::optional<Exec> input_reorder;      // when the first layer wants another layout
  std::map<int, Exec> outputs;            // per activation asked for: reorder to NCHW
  Tensor arena;                           // every activation and the scratchpad
};

OnednnNet::OnednnNet(LayerGraph graph)
    : graph_(std::move(graph)), engine_(dnnl::engine::kind::cpu, 0), stream_(engine_) {
  const int count = graph_.output() + 1;
  std::vector<int> channels(count, 0);
  channels[0] = graph_.in_channels;
  last_read_.assign(count, -1);
  for (int i = 0; i < graph_.output(); ++i) {
    const Layer& l = graph_.layers[i];
    const std::string where = "onednn: layer " + std::to_string(i) + ": ";
    if (l.src < 0 || l.src > i || l.residual > i) throw std::invalid_argument(where + "reads a later activation");
    last_read_[l.src] = i;
    if (l.residual >= 0) last_read_[l.residual] = i;
    int& out = channels[i + 1];
    switch (l.op) {
      case Layer::Op::conv:
        if (!l.weight || l.conv.in_channels != channels[l.src])
          throw std::invalid_argument(where + "conv weights missing or input channels mismatch");
        check_shape(*l.weight, l.conv.weight_shape(), "onednn conv weight");
        out = l.conv.out_channels;
        if (l.residual >= 0 && channels[l.residual] != out)
          throw std::invalid_argument(where + "residual channels mismatch");
        break;
      case Layer::Op::maxpool:
      case Layer::Op::global_avgpool: out = channels[l.src]; break;
      case Layer::Op::linear:
        if (!l.weight) throw std::invalid_argument(where + "linear weights missing");
        out = l.weight->n();
        break;
    }
    if (l.bias) check_shape(*l.bias, {1, out, 1, 1}, "onednn bias");
  }
  weights_.resize(graph_.layers.size());
  for (const Layer& l : graph_.layers) sources_.push_back(l.weight ? *l.weight : Tensor());
}

OnednnNet::~OnednnNet() = default;

memory OnednnNet::current_weights(int layer, const memory::desc& have) {
  // The loaded tensor is read in place: oneDNN only reads weights.
  if (!sources_[layer].empty()) return memory(have, engine_, const_cast<float*>(sources_[layer].data()));
  if (weights_[layer].empty()) throw std::logic_error("onednn: layer " + std::to_string(layer) + " has no weights");
  return weights_[layer].front();
}

memory OnednnNet::weights(int layer, const memory::desc& have, const memory::desc& want) {
  for (const memory& m : weights_[layer])
    if (m.get_desc() == want) return m;
  memory from = current_weights(layer, have);
  if (from.get_desc() == want) {  // the loaded tensor itself: it stays
    weights_[layer].push_back(from);
    return from;
  }
  memory m(want, engine_);
  dnnl::reorder(from, m).execute(stream_, from, m);
  stream_.wait();
  weights_[layer].push_back(m);
  // Let go of the loaded tensor now, layer by layer: when its owner has
  // released it too, its memory goes before the next layer's copy is made.
  sources_[layer] = Tensor();
  return m;
}

namespace {

// B when `d` is [ceil(O/B)][K][K][I][B] with nothing between its elements
// (Ohwi<B>o, or hwio with B = O), else 0.
int gemm_block(const memory::desc& d) {
  const dnnl_memory_desc_t& m = d.data;
  if (m.format_kind != dnnl_blocked || m.ndims != 4 || m.offset0 != 0) return 0;
  const dnnl_blocking_desc_t& b = m.format_desc.blocking;
  const memory::dim out = m.dims[0], in = m.dims[1], k = m.dims[2];
  if (m.dims[3] != k) return 0;
  memory::dim block = 0, block_stride = 0;
  if (b.inner_nblks == 0 && b.strides[0] == 1) {
    block = out, block_stride = k * k * in * out;
  } else if (b.inner_nblks == 1 && b.inner_idxs[0] == 0) {
    block = b.inner_blks[0], block_stride = b.strides[0];
  } else {
    return 0;
  }
  const bool dense = b.strides[1] == block && b.strides[3] == in * block && b.strides[2] == k * in * block &&
                     block_stride == k * k * in * block;
  return dense ? static_cast<int>(block) : 0;
}

}  // namespace

RowWeights OnednnNet::gemm_weights(int layer, const Shape& in) {
  const Layer& l = graph_.layers.at(layer);
  const ConvParams& c = l.conv;
  if (l.op != Layer::Op::conv || c.groups != 1)
    throw std::invalid_argument("onednn: layer " + std::to_string(layer) + " has no GEMM form");
  plan_for(in);  // the clean forward's layouts at this shape
  for (const memory& m : weights_[layer])
    if (const int block = gemm_block(m.get_desc()); block > 0)
      return {static_cast<const float*>(m.get_data_handle()), block};
  const memory::desc want({c.out_channels, c.in_channels, c.kernel, c.kernel}, memory::data_type::f32,
                          memory::format_tag::Ohwi64o);
  return {static_cast<const float*>(weights(layer, plain_weights(l, memory::desc()), want).get_data_handle()), 64};
}

Tensor OnednnNet::plain_weights_copy(int layer) {
  const memory::desc plain_desc = plain_weights(graph_.layers.at(layer), memory::desc());
  Tensor out(graph_.layers[layer].conv.weight_shape());
  memory to(plain_desc, engine_, out.data());
  memory from = current_weights(layer, plain_desc);
  dnnl::reorder(from, to).execute(stream_, from, to);
  stream_.wait();
  return out;
}

std::unique_ptr<OnednnNet::Plan> OnednnNet::build(const Shape& in) {
  auto p = std::make_unique<Plan>();
  const int count = graph_.output() + 1;
  const memory::dims in_dims{in.n, in.c, in.h, in.w};
  const memory::desc user_in = plain(in_dims);
  p->md.assign(count, memory::desc());
  for (const Layer& l : graph_.layers)
    if (l.residual == 0) p->md[0] = user_in;  // the caller's memory is never written

  // Primitives, layer by layer: each reads its producer's layout.
  std::vector<Step> steps;
  for (int i = 0; i < graph_.output(); ++i) {
    const Layer& l = graph_.layers[i];
    const bool pick_input = p->md[l.src].is_zero();  // only the input is undecided
    const memory::desc src = !pick_input ? p->md[l.src]
                             : l.op == Layer::Op::conv ? memory::desc(in_dims, memory::data_type::f32,
                                                                      memory::format_tag::any)
                                                       : user_in;
    steps.push_back(make_step(l, src, l.residual >= 0 ? &p->md[l.residual] : nullptr, engine_));
    if (pick_input) p->md[0] = steps.back().src;
    p->md[i + 1] = steps.back().dst;
  }

  // One arena: the activation slots, then the scratchpad all primitives share.
  const bool input_in_place = p->md[0] == user_in;
  const SlotPlan slots = plan_slots(graph_, p->md, last_read_, input_in_place);
  std::vector<std::size_t> offset;
  std::size_t total = 0;
  for (std::size_t b : slots.bytes) offset.push_back(total), total += b;
  const std::size_t scratch_offset = total;
  std::size_t scratch = 0;
  for (const Step& s : steps) scratch = std::max(scratch, s.scratch.get_size());
  total += round_up(scratch);
  // Uninitialized: a plan built only for its weight layouts (gemm_weights)
  // never touches, so never holds, these pages.
  p->arena = Tensor::uninitialized({1, 1, 1, static_cast<int>(std::max<std::size_t>(total / sizeof(float), 1))});
  char* base = reinterpret_cast<char*>(p->arena.data());

  p->input = memory(user_in, engine_, DNNL_MEMORY_NONE);
  for (int a = 0; a < count; ++a)
    p->mem.push_back(slots.slot[a] < 0 ? p->input : memory(p->md[a], engine_, base + offset[slots.slot[a]]));
  if (!input_in_place)
    p->input_reorder = Exec{dnnl::reorder(p->input, p->mem[0]),
                            {{DNNL_ARG_FROM, p->input}, {DNNL_ARG_TO, p->mem[0]}}};

  p->layers.resize(steps.size());
  for (int i = 0; i < graph_.output(); ++i) {
    const Layer& l = graph_.layers[i];
    const Step& s = steps[i];
    const memory& dst = p->mem[i + 1];
    if (l.residual >= 0 && slots.slot[i + 1] != slots.slot[l.residual]) {
      // The identity is read again later (or is the caller's input): copy it
      // into the output first, the sum post-op adds to what is there.
      const memory& identity = p->mem[l.residual];
      p->layers[i].push_back({dnnl::reorder(identity, dst), {{DNNL_ARG_FROM, identity}, {DNNL_ARG_TO, dst}}});
    }
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, p->mem[l.src]}, {DNNL_ARG_DST, dst}};
    if (!s.weights.is_zero()) args[DNNL_ARG_WEIGHTS] = weights(i, plain_weights(l, p->md[l.src]), s.weights);
    if (l.bias)
      args[DNNL_ARG_BIAS] = memory(memory::desc({l.bias->c()}, memory::data_type::f32, memory::format_tag::x),
                                   engine_, const_cast<float*>(l.bias->data()));
    if (s.scratch.get_size() > 0) args[DNNL_ARG_SCRATCHPAD] = memory(s.scratch, engine_, base + scratch_offset);
    p->layers[i].push_back({s.prim, std::move(args)});
  }
  return p;
}

OnednnNet::Plan& OnednnNet::plan_for(const Shape& in) {
  auto& plan = plans_[{in.n, in.h, in.w}];
  if (!plan) plan = build(in);
  return *plan;
}

Tensor OnednnNet::run(const Tensor& x, int index) {
  if (index < 0 || index > graph_.output()) throw std::out_of_range("onednn: no activation " + std::to_string(index));
  if (x.c() != graph_.in_channels)
    throw std::invalid_argument("onednn: input " + x.shape().str() + " has the wrong channel count");
  Plan& p = plan_for(x.shape());
  p.input.set_data_handle(const_cast<float*>(x.data()));  // read only: never a slot
  if (p.input_reorder) (*p.input_reorder)(stream_);
  for (int i = 0; i < index; ++i)
    for (Exec& e : p.layers[i]) e(stream_);

  auto out_it = p.outputs.find(index);
  if (out_it == p.outputs.end()) {
    memory user(plain(p.md[index].dims()), engine_, DNNL_MEMORY_NONE);
    const memory& from = p.mem[index];
    out_it = p.outputs.emplace(index, Exec{dnnl::reorder(from, user), {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, user}}})
                 .first;
  }
  Tensor out(shape_of(p.md[index].dims()));
  out_it->second.args.at(DNNL_ARG_TO).set_data_handle(out.data());
  out_it->second(stream_);
  stream_.wait();
  return out;
}

}  // namespace lmask::backends::onednn
