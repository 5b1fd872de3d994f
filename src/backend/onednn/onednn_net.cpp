// onednn_net.cpp — plans (primitives, weights, one arena) per input shape,
// and the run: a flat loop over prepared primitives.
#include "onednn_net.h"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "lmask/backend.h"
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

// Which arena slot each node's value lives in (-1: the caller's input) and
// each slot's size. Greedy in node order: a value takes a slot whose
// occupant was last read by an earlier node (never its own input), the
// smallest that fits, else the largest, grown. A conv with a residual takes
// the residual's slot when it is read for the last time there: the sum
// post-op then adds into it in place.
struct SlotPlan {
  std::vector<int> slot;
  std::vector<std::size_t> bytes;
};

SlotPlan plan_slots(const Graph& g, const std::vector<memory::desc>& md, const std::vector<int>& last_read,
                    bool input_in_place) {
  const int count = static_cast<int>(md.size());
  SlotPlan p;
  p.slot.assign(count, -1);
  std::vector<int> busy_until;  // per slot: the last node reading its occupant
  for (int a = input_in_place ? 1 : 0; a < count; ++a) {
    const int until = std::max(last_read[a], a);
    const std::size_t bytes = round_up(md[a].get_size());
    const Node& node = g.nodes[a];
    if (node.has_residual()) {
      const int r = node.inputs[1];
      if (r != node.inputs[0] && last_read[r] == a && p.slot[r] >= 0) {
        p.slot[a] = p.slot[r];
        busy_until[p.slot[a]] = until;
        continue;
      }
    }
    int best = -1;
    for (int s = 0; s < static_cast<int>(p.bytes.size()); ++s) {
      if (busy_until[s] >= a) continue;
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

memory plain_vector(const Tensor& t, const dnnl::engine& engine) {
  return memory(memory::desc({static_cast<memory::dim>(t.numel())}, memory::data_type::f32, memory::format_tag::x),
                engine, const_cast<float*>(t.data()));  // oneDNN only reads it
}

}  // namespace

struct OnednnNet::Plan {
  std::vector<memory::desc> md;          // per node: its value's layout
  std::vector<memory> mem;               // per node: in the arena, or the caller's input
  std::vector<std::vector<Exec>> nodes;  // per node: [copy of the residual,] its primitives
  memory input;                          // the caller's NCHW input, handle set per run
  std::optional<Exec> input_reorder;     // when the first node wants another layout
  std::map<int, Exec> outputs;           // per node asked for: reorder to NCHW
  std::map<int, Exec> given;             // per node given (run_from): reorder from NCHW
  Tensor arena;                          // every value and the scratchpad
};

OnednnNet::OnednnNet(Graph graph)
    : graph_(std::move(graph)), engine_(dnnl::engine::kind::cpu, 0), stream_(engine_) {
  const int count = graph_.size();
  channels_.assign(count, 0);
  channels_[0] = graph_.in_channels;
  last_read_.assign(count, -1);
  sources_.resize(count);
  for (int id = 1; id < count; ++id) {
    Node& node = graph_.nodes[id];
    for (int in : node.inputs) last_read_[in] = id;
    int& out = channels_[id];
    out = channels_[node.inputs.at(0)];
    if (node.op == Op::conv2d) {
      check_shape(node.weight, node.conv.weight_shape(), "onednn conv weight");
      out = node.conv.out_channels;
    } else if (node.op == Op::linear) {
      out = node.weight.n();
    } else if (node.op == Op::concat) {
      out = 0;
      for (int in : node.inputs) out += channels_[in];
    }
    // The weights live in sources_ until reordered, and only there.
    sources_[id] = node.weight;
    node.weight = Tensor();
  }
  weights_.resize(count);
}

OnednnNet::~OnednnNet() = default;

memory::desc OnednnNet::plain_weights_of(int node, const memory::desc& src) const {
  const Node& n = graph_.nodes.at(node);
  if (src.is_zero()) return plain_weights(n, n.conv.in_channels, channels_[node]);  // a conv's
  return plain_weights(n, int(src.dims()[1]), channels_[node], int(src.dims().size()));
}

memory OnednnNet::current_weights(int node, const memory::desc& have) {
  // The loaded tensor is read in place: oneDNN only reads weights.
  if (!sources_[node].empty()) return memory(have, engine_, const_cast<float*>(sources_[node].data()));
  if (weights_[node].empty()) throw std::logic_error("onednn: node " + std::to_string(node) + " has no weights");
  return weights_[node].front();
}

memory OnednnNet::weights(int node, const memory::desc& have, const memory::desc& want) {
  for (const memory& m : weights_[node])
    if (m.get_desc() == want) return m;
  memory from = current_weights(node, have);
  if (from.get_desc() == want) {  // the loaded tensor itself: it stays
    weights_[node].push_back(from);
    return from;
  }
  memory m(want, engine_);
  dnnl::reorder(from, m).execute(stream_, from, m);
  stream_.wait();
  weights_[node].push_back(m);
  // Let go of the loaded tensor now, node by node: when its owner has
  // released it too, its memory goes before the next node's copy is made.
  sources_[node] = Tensor();
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

RowWeights OnednnNet::gemm_weights(int node, const Shape& in) {
  const Node& n = graph_.nodes.at(node);
  const ConvParams& c = n.conv;
  if (n.op != Op::conv2d || c.groups != 1)
    throw std::invalid_argument("onednn: node " + std::to_string(node) + " has no GEMM form");
  plan_for(in);  // the clean forward's layouts at this shape
  for (const memory& m : weights_[node])
    if (const int block = gemm_block(m.get_desc()); block > 0)
      return {static_cast<const float*>(m.get_data_handle()), block};
  const memory::desc want({c.out_channels, c.in_channels, c.kernel, c.kernel}, memory::data_type::f32,
                          memory::format_tag::Ohwi64o);
  return {static_cast<const float*>(weights(node, plain_weights_of(node, memory::desc()), want).get_data_handle()), 64};
}

Tensor OnednnNet::plain_weights_copy(int node) {
  const memory::desc plain_desc = plain_weights_of(node, memory::desc());
  Tensor out(graph_.nodes.at(node).conv.weight_shape());
  memory to(plain_desc, engine_, out.data());
  memory from = current_weights(node, plain_desc);
  dnnl::reorder(from, to).execute(stream_, from, to);
  stream_.wait();
  return out;
}

std::unique_ptr<OnednnNet::Plan> OnednnNet::build(const Shape& in) {
  auto p = std::make_unique<Plan>();
  const int count = graph_.size();
  const memory::dims in_dims{in.n, in.c, in.h, in.w};
  const memory::desc user_in = plain(in_dims);
  p->md.assign(count, memory::desc());
  // The input's layout is left to a conv reading it as its input; read any
  // other way it stays the caller's (which is never written).
  for (int id = 1; id < count; ++id) {
    const Node& node = graph_.nodes[id];
    for (std::size_t k = 0; k < node.inputs.size(); ++k)
      if (node.inputs[k] == 0 && (node.op != Op::conv2d || k > 0)) p->md[0] = user_in;
  }

  // Primitives, node by node: each reads its producers' layouts.
  std::vector<Step> steps(count);
  for (int id = 1; id < count; ++id) {
    const Node& node = graph_.nodes[id];
    const bool pick_input = node.inputs[0] == 0 && p->md[0].is_zero();  // only the input is undecided
    std::vector<memory::desc> src;
    for (int i : node.inputs) src.push_back(p->md[i]);
    if (pick_input) src[0] = memory::desc(in_dims, memory::data_type::f32, memory::format_tag::any);
    steps[id] = make_step(graph_, id, src, channels_, engine_);
    if (pick_input) p->md[0] = steps[id].src[0];
    p->md[id] = steps[id].value;
  }
  if (p->md[0].is_zero()) p->md[0] = user_in;  // nothing reads it: the output is the input

  // One arena: the value slots, then the scratchpad all primitives share.
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

  p->nodes.resize(count);
  for (int id = 1; id < count; ++id) {
    const Node& node = graph_.nodes[id];
    const Step& s = steps[id];
    // Where a primitive sees a value in another shape of the same bytes
    // (flatten's output, a [N,C] scale read as [N,C,1,1]): the same memory
    // under the primitive's descriptor.
    auto as_seen = [&](const memory& m, const memory::desc& want) {
      if (m.get_desc() == want) return m;
      if (m.get_data_handle() == DNNL_MEMORY_NONE) throw std::logic_error("onednn: the input read as another shape");
      return memory(want, engine_, m.get_data_handle());
    };
    const memory dst = as_seen(p->mem[id], s.dst);
    auto input = [&](std::size_t k) { return as_seen(p->mem[node.inputs[k]], s.src[k]); };
    std::vector<Exec>& run = p->nodes[id];
    if (node.has_residual() && slots.slot[id] != slots.slot[node.inputs[1]]) {
      // The residual is read again later (or is the caller's input): copy it
      // into the output first, the sum post-op adds to what is there.
      const memory& residual = p->mem[node.inputs[1]];
      run.push_back({dnnl::reorder(residual, dst), {{DNNL_ARG_FROM, residual}, {DNNL_ARG_TO, dst}}});
    }
    std::unordered_map<int, memory> args{{DNNL_ARG_DST, dst}};
    if (node.op == Op::concat) {
      for (std::size_t k = 0; k < node.inputs.size(); ++k) args[DNNL_ARG_MULTIPLE_SRC + int(k)] = input(k);
    } else if (node.op == Op::add || node.op == Op::channel_scale) {
      args[DNNL_ARG_SRC_0] = input(0);
      args[DNNL_ARG_SRC_1] = input(1);
    } else {
      args[DNNL_ARG_SRC] = input(0);
    }
    if (!s.weights.is_zero())
      args[DNNL_ARG_WEIGHTS] = weights(id, plain_weights_of(id, s.src[0]), s.weights);
    if (!node.bias.empty()) args[DNNL_ARG_BIAS] = plain_vector(node.bias, engine_);
    if (node.op == Op::batchnorm) {
      args[DNNL_ARG_MEAN] = plain_vector(node.bn.mean, engine_);
      args[DNNL_ARG_VARIANCE] = plain_vector(node.bn.var, engine_);
      args[DNNL_ARG_SCALE] = plain_vector(node.bn.gamma, engine_);
      args[DNNL_ARG_SHIFT] = plain_vector(node.bn.beta, engine_);
    }
    if (s.scratch.get_size() > 0) args[DNNL_ARG_SCRATCHPAD] = memory(s.scratch, engine_, base + scratch_offset);
    for (std::size_t k = 0; k < s.prims.size(); ++k) {
      run.push_back({s.prims[k], args});
      // A node of several primitives (hardsigmoid) runs the later ones in place on its output.
      if (k == 0) args[DNNL_ARG_SRC] = dst;
    }
  }
  return p;
}

OnednnNet::Plan& OnednnNet::plan_for(const Shape& in) {
  auto& plan = plans_[{in.n, in.h, in.w}];
  if (!plan) plan = build(in);
  return *plan;
}

namespace {

void check_node(const Graph& g, int index) {
  if (index < 0 || index >= g.size()) throw std::out_of_range("onednn: no node " + std::to_string(index));
}

}  // namespace

Tensor OnednnNet::run(const Tensor& x, int index) {
  check_node(graph_, index);
  if (x.c() != graph_.in_channels)
    throw std::invalid_argument("onednn: input " + x.shape().str() + " has the wrong channel count");
  Plan& p = plan_for(x.shape());
  p.input.set_data_handle(const_cast<float*>(x.data()));  // read only: never a slot
  if (p.input_reorder) (*p.input_reorder)(stream_);
  return finish(p, 1, index);
}

Tensor OnednnNet::run_from(const Shape& image, int from, const Tensor& value, int index) {
  check_node(graph_, index);
  if (from <= 0 || from > index) throw std::out_of_range("onednn: run_from node " + std::to_string(from));
  Plan& p = plan_for(image);
  if (value.shape() != shape_of(p.md[from].dims()))
    throw std::invalid_argument("onednn: node " + std::to_string(from) + " given " + value.shape().str());
  auto it = p.given.find(from);
  if (it == p.given.end()) {
    memory user(plain(p.md[from].dims()), engine_, DNNL_MEMORY_NONE);
    const memory& to = p.mem[from];
    it = p.given.emplace(from, Exec{dnnl::reorder(user, to), {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, to}}}).first;
  }
  it->second.args.at(DNNL_ARG_FROM).set_data_handle(const_cast<float*>(value.data()));  // only read
  it->second(stream_);
  return finish(p, from + 1, index);
}

Tensor OnednnNet::finish(Plan& p, int first, int index) {
  for (int i = first; i <= index; ++i)
    for (Exec& e : p.nodes[i]) e(stream_);

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
