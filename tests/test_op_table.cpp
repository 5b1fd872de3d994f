// test_op_table.cpp — the op table: every op of graph.h on every backend,
// clean and layer-masked, against the literal rule (literal_masked.h).
//
// ggml's test-backend-ops in spirit: a table of rows, each a small Graph of
// one op under test (preceded, where that helps, by a conv, so that the op
// sees an irregular mask and non-trivial values), run through
// make_backend(name, graph) on every backend the build was configured with
// (LMASK_TEST_BACKENDS) that can run in this process: one column each. A
// configured backend that cannot run here (cuda without a visible GPU) is
// reported as a skipped column; where a GPU is, cuda's rows run like any.
//   clean:  forward(x) against the plain naive ops;
//   masked: forward_masked(x, m, {fill, execution}) for every Fill and every
//           Execution, on every mask kind, against the spec read literally.
// The embedded forward (embedded.h, forward_arena in a planned arena) is one
// more column, "embedded": the row's graph as it is and with its epilogues
// fused, clean and masked with every fill (it always runs densely).
// A backend that throws Unsupported for a row is reported and counted, not
// failed; the last lines of the table's case are the coverage per backend.
// Seeds are fixed and every parameter is printed on failure.
//
// Tolerance: max|diff| <= 1e-4 * max(1, max|expected|) (relative_error in
// reference_ops.h): float32 backends against a double oracle, on values
// kept O(1) by weights scaled with 1/sqrt(fan-in).
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "arena_forward.h"
#include "backend_columns.h"
#include "graph_builder.h"
#include "graph_cases.h"
#include "lmask/graph_passes.h"
#include "lmask/backend.h"
#include "lmask/error.h"
#include "literal_masked.h"
#include "reference_ops.h"

using namespace lmask;
using namespace lmask::testing;

namespace {

constexpr double kTolerance = 1e-4;

// One comparison of a row: a doctest check, and whether it held.
bool within_tolerance(double err) {
  CAPTURE(err);
  CHECK(err <= kTolerance);
  return err <= kTolerance;
}

// ---- rows ----------------------------------------------------------------------

struct Row {
  std::string op;    // the op under test, as the coverage summary names it
  std::string what;  // why the row is there
  Shape input;
  float lo = -1.f, hi = 1.f;  // the input's value range
  Graph graph;
  std::uint32_t seed = 0;
};

std::string describe(const Node& n) {
  std::ostringstream os;
  os << op_name(n.op);
  switch (n.op) {
    case Op::conv2d: {
      const ConvParams& p = n.conv;
      os << " " << p.in_channels << "->" << p.out_channels << " k=" << p.kernel << " s=" << p.stride
         << " p=" << p.padding << " d=" << p.dilation << " g=" << p.groups << " bias=" << !n.bias.empty();
      if (n.has_residual()) os << " +residual";
      if (n.fused_activation) os << " +" << activation_name(n.activation);
      break;
    }
    case Op::batchnorm: os << " eps=" << n.bn.eps; break;
    case Op::activation: os << " " << activation_name(n.activation); break;
    case Op::maxpool:
    case Op::avgpool:
      os << " k=" << n.pool.kernel << " s=" << n.pool.stride << " p=" << n.pool.padding
         << " ceil=" << n.pool.ceil_mode;
      if (n.op == Op::avgpool) os << " count_include_pad=" << n.pool.count_include_pad;
      break;
    case Op::adaptive_avgpool: os << " S=" << n.out_size; break;
    case Op::linear: os << " " << n.weight.c() << "->" << n.weight.n() << " bias=" << !n.bias.empty(); break;
    default: break;
  }
  os << " (reads";
  for (int i : n.inputs) os << " " << i;
  os << ")";
  return os.str();
}

std::string describe(const Row& r) {
  std::ostringstream os;
  os << r.op << " [" << r.what << "] input " << r.input.str() << " in [" << r.lo << "," << r.hi << "] seed "
     << r.seed << ":";
  for (int id = 1; id < r.graph.size(); ++id) os << " | " << id << " " << describe(r.graph[id]);
  return os.str();
}

// Builds one row's graph; weights come from the row's seed, one per node.
class RowBuilder : public GraphBuilder {
 public:
  RowBuilder(std::string op, std::string what, Shape input, std::uint32_t seed) : GraphBuilder(input, seed) {
    row_.op = std::move(op), row_.what = std::move(what), row_.input = input, row_.seed = seed;
  }

  Row done(float lo = -1.f, float hi = 1.f) {
    row_.graph = graph();
    row_.lo = lo, row_.hi = hi;
    infer_shapes(row_.graph, row_.input);  // a row that does not fit is the table's bug: throws
    return row_;
  }

 private:
  Row row_;
};

std::vector<Row> op_table() {
  std::vector<Row> rows;
  std::uint32_t seed = 1000;
  // A row of op `op`, built by build(RowBuilder&) on an input of shape `in`
  // with values in [lo, hi].
  auto add = [&](const std::string& op, const char* what, Shape in, auto build, float lo = -1.f, float hi = 1.f) {
    RowBuilder b(op, what, in, seed += 100);
    build(b);
    rows.push_back(b.done(lo, hi));
  };
  const int x = 0;  // the input node
  using A = Activation;

  // conv2d: kernels 1 to 7 (2 and 4 even), strides 1/2/3, padding 0 and k/2,
  // dilation 2 and 3, groups and depthwise, bias or not, 1x1 images.
  struct ConvSpec {
    int n, c, h, w, out, k, s, p, d, g;
    bool bias;
    const char* what;
  };
  const ConvSpec convs[] = {
      // n c  h   w  out k  s  p  d  g   bias
      {2, 3, 9, 7, 8, 3, 1, 1, 1, 1, true, "3x3 p1, odd sizes"},
      {2, 5, 11, 9, 12, 3, 2, 1, 1, 1, false, "3x3 s2 p1, no bias"},
      {1, 4, 13, 11, 6, 5, 3, 2, 1, 1, true, "5x5 s3 p2"},
      {2, 3, 17, 15, 8, 7, 2, 3, 1, 1, false, "7x7 s2 p3, no bias (the stem)"},
      {3, 6, 7, 9, 10, 1, 1, 0, 1, 1, true, "1x1"},
      {2, 8, 9, 9, 12, 1, 2, 0, 1, 1, true, "1x1 s2 (downsample)"},
      {2, 6, 11, 13, 6, 3, 1, 2, 2, 1, true, "3x3 dilation 2 p2"},
      {1, 4, 12, 10, 5, 3, 2, 0, 2, 1, true, "3x3 dilation 2 s2 p0"},
      {1, 4, 13, 13, 4, 3, 1, 3, 3, 1, true, "3x3 dilation 3 p3"},
      {2, 8, 9, 9, 12, 3, 1, 1, 1, 4, true, "3x3 groups 4"},
      {2, 12, 11, 11, 12, 3, 2, 1, 1, 12, false, "depthwise 3x3 s2, no bias"},
      {1, 6, 9, 9, 6, 5, 1, 2, 1, 6, true, "depthwise 5x5 p2"},
      {1, 5, 8, 8, 7, 3, 2, 0, 1, 1, true, "3x3 s2 p0 (last row and column unread)"},
      {3, 8, 1, 1, 8, 3, 1, 1, 1, 1, true, "3x3 p1 on 1x1 images"},
      {3, 8, 1, 1, 8, 1, 1, 0, 1, 1, true, "1x1 on 1x1 images"},
      {2, 4, 9, 8, 6, 2, 1, 1, 1, 1, true, "2x2 p1 (even kernel)"},
      {1, 4, 16, 13, 6, 4, 1, 2, 1, 1, true, "4x4 p2 (even kernel: an output row and column more than centres)"},
  };
  for (const ConvSpec& c : convs)
    add("conv2d", c.what, {c.n, c.c, c.h, c.w},
        [&](RowBuilder& b) { b.conv(x, c.out, c.k, c.s, c.p, c.d, c.g, c.bias); });
  add("conv2d", "3x3 s2 after a 3x3 conv", {2, 4, 13, 11},
      [](RowBuilder& b) { b.conv(b.conv(x, 8, 3, 1, 1), 8, 3, 2, 1); });

  // conv2d with an epilogue the backends fuse: an activation, a residual add.
  add("conv2d+relu", "fused relu", {2, 5, 9, 11},
      [](RowBuilder& b) { b.activation(b.conv(x, 8, 3, 1, 1), A::relu); });
  add("conv2d+hardswish", "fused hardswish, s2", {2, 5, 9, 7},
      [](RowBuilder& b) { b.activation(b.conv(x, 8, 3, 2, 1), A::hardswish); });
  add("conv2d+sigmoid", "fused sigmoid (f(0) != 0)", {1, 4, 7, 7},
      [](RowBuilder& b) { b.activation(b.conv(x, 6, 5, 1, 2), A::sigmoid); });
  add("conv2d+add+relu", "the ResNet join: conv, conv, add, relu", {2, 6, 9, 9}, [](RowBuilder& b) {
    const int a = b.conv(x, 8, 3, 1, 1);
    b.activation(b.op(Op::add, {b.conv(a, 8, 3, 1, 1), a}), A::relu);
  });
  add("conv2d+add", "1x1 s1 conv + add: computes only what the join keeps", {2, 6, 11, 9},
      [](RowBuilder& b) { b.op(Op::add, {b.conv(b.conv(x, 6, 3, 1, 1), 6, 1), x}); });
  add("conv2d+add+relu", "bottleneck tail: 1x1 conv + 1x1 s2 downsample, add, relu", {2, 6, 10, 10},
      [](RowBuilder& b) {
        const int a = b.conv(x, 8, 3, 2, 1);
        const int d = b.conv(x, 8, 1, 2, 0, 1, 1, false);
        b.activation(b.op(Op::add, {b.conv(a, 8, 1), d}), A::relu);
      });

  // batchnorm, activation.
  add("batchnorm", "after a conv, eps 1e-3", {2, 5, 9, 7},
      [](RowBuilder& b) { b.batchnorm(b.conv(x, 7, 3, 1, 1), 1e-3f); });
  add("batchnorm", "on the input, eps 1e-5", {3, 6, 5, 7}, [](RowBuilder& b) { b.batchnorm(x, 1e-5f); });
  for (A a : {A::relu, A::relu6, A::hardswish, A::hardsigmoid, A::silu, A::sigmoid})
    add(std::string("activation ") + activation_name(a), "on the input, across every piece of f", {2, 5, 7, 9},
        [&](RowBuilder& b) { b.activation(x, a); }, -7.f, 8.f);
  add("activation silu", "after conv and batchnorm", {2, 4, 9, 9},
      [](RowBuilder& b) { b.activation(b.batchnorm(b.conv(x, 6, 3, 1, 1), 1e-5f), A::silu); });

  // maxpool, avgpool.
  add("maxpool", "3x3 s2 p1 (the stem pool) after a conv", {2, 4, 17, 15},
      [](RowBuilder& b) { b.pool(Op::maxpool, b.conv(x, 6, 3, 1, 1), 3, 2, 1); });
  add("maxpool", "3x3 s2 ceil_mode, a hanging window; negative inputs (removed 0s win)", {2, 5, 10, 12},
      [](RowBuilder& b) { b.pool(Op::maxpool, x, 3, 2, 0, true); }, -2.f, -1.f);
  add("maxpool", "2x2 s2, odd sizes", {1, 6, 9, 7}, [](RowBuilder& b) { b.pool(Op::maxpool, x, 2, 2, 0); });
  add("maxpool", "3x3 s3 p1", {1, 4, 8, 8}, [](RowBuilder& b) { b.pool(Op::maxpool, x, 3, 3, 1); });
  add("maxpool", "3x3 s2 p1 on 1x1 images", {3, 4, 1, 1}, [](RowBuilder& b) { b.pool(Op::maxpool, x, 3, 2, 1); });
  add("avgpool", "2x2 s2 (DenseNet transition), odd sizes, after a 1x1 conv", {2, 4, 9, 11},
      [](RowBuilder& b) { b.pool(Op::avgpool, b.conv(x, 6, 1), 2, 2, 0); });
  add("avgpool", "3x3 s2 p1 count_include_pad", {2, 5, 9, 9},
      [](RowBuilder& b) { b.pool(Op::avgpool, x, 3, 2, 1, false, true); });
  add("avgpool", "3x3 s2 p1 without the padding", {2, 5, 9, 9},
      [](RowBuilder& b) { b.pool(Op::avgpool, x, 3, 2, 1, false, false); });
  add("avgpool", "3x3 s2 p1 ceil_mode, hanging window, count_include_pad", {1, 4, 10, 10},
      [](RowBuilder& b) { b.pool(Op::avgpool, x, 3, 2, 1, true, true); });
  add("avgpool", "3x3 s2 p1 ceil_mode, hanging window, without the padding", {1, 4, 10, 10},
      [](RowBuilder& b) { b.pool(Op::avgpool, x, 3, 2, 1, true, false); });
  add("avgpool", "2x2 s2 ceil_mode, odd sizes", {2, 3, 7, 9},
      [](RowBuilder& b) { b.pool(Op::avgpool, x, 2, 2, 0, true, true); });

  // global and adaptive pooling.
  add("global_avgpool", "after a conv", {3, 5, 7, 5},
      [](RowBuilder& b) { b.op(Op::global_avgpool, {b.conv(x, 8, 3, 1, 1)}); });
  add("global_avgpool", "on 1x1 images", {3, 6, 1, 1}, [](RowBuilder& b) { b.op(Op::global_avgpool, {x}); });
  add("adaptive_avgpool", "S=3, overlapping bins, after a conv", {2, 4, 7, 8},
      [](RowBuilder& b) { b.adaptive(b.conv(x, 6, 3, 1, 1), 3); });
  add("adaptive_avgpool", "S=1", {2, 5, 9, 7}, [](RowBuilder& b) { b.adaptive(x, 1); });
  add("adaptive_avgpool", "S=2 on 5x5", {2, 3, 5, 5}, [](RowBuilder& b) { b.adaptive(x, 2); });
  add("adaptive_avgpool", "S=4 on 4x4 (one position per bin)", {1, 3, 4, 4}, [](RowBuilder& b) { b.adaptive(x, 4); });

  // add, concat, channel_scale.
  add("add", "unfused: conv + hardswish, and the input", {2, 6, 9, 9},
      [](RowBuilder& b) { b.op(Op::add, {b.activation(b.conv(x, 6, 3, 1, 1), A::hardswish), x}); });
  add("add", "unfused: a 1x1 conv and a 3x3 s1 max-pool (masks m and dil(m))", {2, 5, 11, 9}, [](RowBuilder& b) {
    const int c = b.conv(x, 5, 1);
    b.op(Op::add, {c, b.pool(Op::maxpool, x, 3, 1, 1)});
  });
  add("concat", "2 inputs: a 3x3 conv and the input (mask m0 * m1)", {2, 4, 9, 9},
      [](RowBuilder& b) { b.op(Op::concat, {b.conv(x, 6, 3, 1, 1), x}); });
  add("concat", "3 inputs: masks m, dil1(m), dil2(m); the majority is dil1(m)", {2, 3, 11, 11}, [](RowBuilder& b) {
    const int a = b.conv(x, 4, 3, 1, 1);
    const int c = b.conv(x, 5, 5, 1, 2);
    b.op(Op::concat, {x, a, c});
  });
  add("concat", "1 input", {1, 3, 5, 6}, [](RowBuilder& b) { b.op(Op::concat, {b.conv(x, 4, 3, 1, 1)}); });
  add("channel_scale", "squeeze-excitation: vismean, 1x1 conv, relu, fc, hardsigmoid", {2, 6, 9, 7},
      [](RowBuilder& b) {
        const int a = b.conv(x, 8, 3, 1, 1);
        const int q = b.op(Op::global_avgpool, {a});
        const int s = b.activation(b.linear(b.activation(b.conv(q, 4, 1), A::relu), 8), A::hardsigmoid);
        b.op(Op::channel_scale, {a, s});
      });

  // linear, flatten, identity.
  add("linear", "on 1x1 images", {3, 12, 1, 1}, [](RowBuilder& b) { b.linear(x, 7); });
  add("linear", "after a global pool, no bias", {2, 6, 7, 7},
      [](RowBuilder& b) { b.linear(b.op(Op::global_avgpool, {b.conv(x, 8, 3, 2, 1)}), 5, false); });
  add("flatten", "after a 3x3 s2 conv", {2, 4, 5, 5},
      [](RowBuilder& b) { b.op(Op::flatten, {b.conv(x, 3, 3, 2, 1)}); });
  add("linear", "after a flatten", {2, 4, 5, 5},
      [](RowBuilder& b) { b.linear(b.op(Op::flatten, {b.conv(x, 3, 3, 2, 1)}), 6); });
  add("identity", "after a conv", {2, 4, 7, 7}, [](RowBuilder& b) { b.op(Op::identity, {b.conv(x, 5, 3, 1, 1)}); });
  add("identity", "on the input", {2, 4, 6, 5}, [](RowBuilder& b) { b.op(Op::identity, {x}); });
  add("fill_step", "after a 1x1 conv, before one (SqueezeNet's expand1x1)", {2, 4, 9, 8},
      [](RowBuilder& b) { b.conv(b.op(Op::fill_step, {b.conv(x, 5, 1, 1, 0)}), 6, 1, 1, 0); });
  add("fill_step", "on the input", {2, 3, 7, 6}, [](RowBuilder& b) { b.op(Op::fill_step, {x}); });
  add("global_avgpool", "allmean, after a conv (SqueezeNet's and DenseNet's heads)", {3, 5, 7, 5}, [](RowBuilder& b) {
    const int pool = b.op(Op::global_avgpool, {b.conv(x, 8, 3, 1, 1)});
    b.allmean(pool);
  });
  return rows;
}

// ---- masks -------------------------------------------------------------------------

enum class MaskKind {
  irregular,  // each position visible with a probability in [0.3, 0.7]
  patches,    // two visible rectangles: sparse after dilation, so the active paths run
  visible,    // all visible
  removed,    // all removed
  one_pixel,  // one visible position per image
  last_rows,  // only the last two rows visible: a straight border
  mixed,      // a batch of different kinds: irregular, all visible, all removed (N >= 2)
};
const MaskKind kMaskKinds[] = {MaskKind::irregular, MaskKind::patches,   MaskKind::visible, MaskKind::removed,
                               MaskKind::one_pixel, MaskKind::last_rows, MaskKind::mixed};

std::string mask_name(MaskKind k) {
  switch (k) {
    case MaskKind::irregular: return "irregular";
    case MaskKind::patches: return "patches";
    case MaskKind::visible: return "all-visible";
    case MaskKind::removed: return "all-removed";
    case MaskKind::one_pixel: return "one-pixel";
    case MaskKind::last_rows: return "last-rows";
    case MaskKind::mixed: return "mixed";
  }
  return "?";
}

// One image's mask [1,1,H,W] of kind k (not mixed).
Tensor mask_image(MaskKind k, int h, int w, std::uint32_t seed) {
  std::mt19937 rng(seed);
  Tensor m({1, 1, h, w});
  switch (k) {
    case MaskKind::irregular: return random_mask(1, h, w, 0.3 + 0.1 * (seed % 5), seed).tensor();
    case MaskKind::patches:
      for (int p = 0; p < 2; ++p) {
        const int ph = 1 + int(rng() % std::max(1, h / 3)), pw = 1 + int(rng() % std::max(1, w / 3));
        const int y0 = int(rng() % h), x0 = int(rng() % w);
        for (int y = y0; y < std::min(h, y0 + ph); ++y)
          for (int x = x0; x < std::min(w, x0 + pw); ++x) m.at(0, 0, y, x) = 1.f;
      }
      return m;
    case MaskKind::visible: m.fill(1.f); return m;
    case MaskKind::removed: return m;
    case MaskKind::one_pixel: m.at(0, 0, int(rng() % h), int(rng() % w)) = 1.f; return m;
    case MaskKind::last_rows:
      for (int y = std::max(0, h - 2); y < h; ++y)
        for (int x = 0; x < w; ++x) m.at(0, 0, y, x) = 1.f;
      return m;
    case MaskKind::mixed: break;
  }
  throw std::logic_error("mask_image: mixed is a batch");
}

Tensor make_mask(MaskKind k, int n, int h, int w, std::uint32_t seed) {
  static const MaskKind mixed[] = {MaskKind::irregular, MaskKind::visible, MaskKind::removed};
  Tensor m({n, 1, h, w});
  for (int i = 0; i < n; ++i) {
    const Tensor one = mask_image(k == MaskKind::mixed ? mixed[i % 3] : k, h, w, seed + 7 * i);
    std::copy(one.data(), one.data() + one.numel(), m.image(i));
  }
  return m;
}

// ---- running the table --------------------------------------------------------------

std::string fill_name(Fill f) {
  return f == Fill::neighbour_average ? "neighbour_average" : f == Fill::none ? "none" : "renorm";
}
std::string execution_name(Execution e) { return e == Execution::active ? "active" : "dense"; }

constexpr Fill kFills[] = {Fill::neighbour_average, Fill::none, Fill::renorm};
constexpr Execution kExecutions[] = {Execution::active, Execution::dense};
const char* const kEmbedded = "embedded";  // the column of the embedded forward

// What a backend ran of the table.
struct Coverage {
  int rows = 0, clean = 0, masked = 0;  // rows, those run clean, those run with every masked option
  int failing = 0;                      // rows with a failed check
  std::map<std::string, int> rows_of_op, clean_refused, masked_refused;  // per op under test
};

// "avgpool 8/8, linear 1/3": the ops of the refused rows, with how many of their rows.
std::string refused(const Coverage& c, const std::map<std::string, int>& of_op) {
  std::string out;
  for (const auto& [op, count] : of_op)
    out += (out.empty() ? "" : ", ") + op + " " + std::to_string(count) + "/" + std::to_string(c.rows_of_op.at(op));
  return out.empty() ? "none" : out;
}

// One backend's masked output for a row against the literal: relative_error.
double masked_error(Backend& backend, const Tensor& x, const Tensor& m, Fill fill, Execution execution,
                    const Tensor& want) {
  const Tensor x_before = x.clone();
  const Tensor got = backend.forward_masked(x, Mask(m), {fill, execution});
  CHECK(max_abs_diff(x, x_before) == 0.f);  // the input is read only
  return relative_error(got, want);
}

// A mask of a row and the literal's outputs under it, per fill.
struct MaskedCase {
  MaskKind kind;
  Tensor m;
  Tensor want[3];  // per fill
};

// The embedded column: forward_arena on the row's graph as it is and with
// its epilogues fused (as make_backend fuses them), clean and masked with
// every fill. arena_forward checks the arena too: nothing written outside
// it, every buffer used to exactly its planned size.
void run_embedded(const Row& row, const Tensor& x, const Tensor& want_clean, const std::vector<MaskedCase>& cases,
                  Coverage& cov) {
  CAPTURE(kEmbedded);
  ++cov.rows, ++cov.rows_of_op[row.op];
  bool failed = false;
  auto check = [&](double err) { failed = !within_tolerance(err) || failed; };
  const Graph fused = fuse_epilogues(row.graph);
  for (const Graph* g : {&row.graph, &fused}) {
    INFO((g == &fused ? "epilogues fused" : "the graph as it is"));
    check(relative_error(arena_forward(*g, x, nullptr), want_clean));
    for (const MaskedCase& c : cases) {
      INFO("mask " << mask_name(c.kind) << " (" << c.m.shape().str() << ", visible " << Mask(c.m).count_visible()
                   << ")");
      const Mask m(c.m);
      for (int f = 0; f < 3; ++f) {
        INFO("fill " << fill_name(kFills[f]));
        check(relative_error(arena_forward(*g, x, &m, kFills[f]), c.want[f]));
      }
    }
  }
  ++cov.clean, ++cov.masked, cov.failing += failed;
}

// Runs one row on every column and the embedded forward, checking clean
// and masked outputs.
void run_row(const Row& row, const std::vector<std::string>& columns, std::map<std::string, Coverage>& coverage) {
  INFO(describe(row));
  const Tensor x = random_tensor(row.input, row.seed, row.lo, row.hi);
  const Tensor want_clean = literal_clean_forward(row.graph, x);

  // The literal's outputs, once per mask kind and fill.
  std::vector<MaskedCase> cases;
  for (MaskKind kind : kMaskKinds) {
    if (kind == MaskKind::mixed && row.input.n < 2) continue;
    MaskedCase c{kind, make_mask(kind, row.input.n, row.input.h, row.input.w, row.seed + 50), {}};
    for (int f = 0; f < 3; ++f) c.want[f] = literal_masked_forward(row.graph, x, c.m, kFills[f]).x;
    cases.push_back(c);
  }

  for (const std::string& name : columns) {
    CAPTURE(name);
    Coverage& cov = coverage[name];
    ++cov.rows, ++cov.rows_of_op[row.op];
    bool failed = false;
    auto check = [&](double err) { failed = !within_tolerance(err) || failed; };
    std::unique_ptr<Backend> backend;
    try {
      backend = make_backend(name, row.graph);
    } catch (const Unsupported& e) {
      MESSAGE(name << ": unsupported, not a failure: " << row.op << " [" << row.what << "]: " << std::string(e.what()));
      ++cov.clean_refused[row.op], ++cov.masked_refused[row.op];
      continue;
    } catch (const std::exception& e) {
      FAIL_CHECK("make_backend threw: " << std::string(e.what()));
      ++cov.failing;
      continue;
    }
    bool clean_ran = true, masked_ran = true;
    try {
      INFO("clean");
      check(relative_error(backend->forward(x), want_clean));
    } catch (const Unsupported& e) {
      MESSAGE(name << ": clean unsupported: " << row.op << " [" << row.what << "]: " << std::string(e.what()));
      ++cov.clean_refused[row.op];
      clean_ran = false;
    } catch (const std::exception& e) {
      FAIL_CHECK("clean forward threw: " << std::string(e.what()));
      failed = true;
    }
    for (const MaskedCase& c : cases) {
      if (!masked_ran) break;
      INFO("mask " << mask_name(c.kind) << " (" << c.m.shape().str() << ", visible " << Mask(c.m).count_visible()
                   << ")");
      for (int f = 0; f < 3 && masked_ran; ++f)
        for (Execution e : kExecutions) {
          INFO("fill " << fill_name(kFills[f]) << ", execution " << execution_name(e));
          try {
            check(masked_error(*backend, x, c.m, kFills[f], e, c.want[f]));
          } catch (const Unsupported& ex) {
            MESSAGE(name << ": masked unsupported: " << row.op << " [" << row.what << "]: " << std::string(ex.what()));
            ++cov.masked_refused[row.op];
            masked_ran = false;
            break;
          } catch (const std::exception& ex) {
            FAIL_CHECK("masked forward threw: " << std::string(ex.what()));
            failed = true;
          }
        }
    }
    cov.clean += clean_ran, cov.masked += masked_ran, cov.failing += failed;
  }
  run_embedded(row, x, want_clean, cases, coverage[kEmbedded]);
}

// The row of the table used by the checks that must fail below.
Row find_row(const std::string& op, const std::string& what) {
  for (const Row& r : op_table())
    if (r.op == op && r.what == what) return r;
  throw std::logic_error("no row " + op + " [" + what + "]");
}

}  // namespace

TEST_CASE("op table: every op on every backend against the literal rule, clean and masked") {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<Row> rows = op_table();

  // The table covers every op of graph.h (the input node is in every row),
  // every activation on its own, and concat of 2 and 3 inputs.
  std::set<Op> ops;
  std::set<Activation> activations;
  std::set<std::size_t> concat_inputs;
  for (const Row& r : rows)
    for (const Node& n : r.graph.nodes) {
      ops.insert(n.op);
      if (n.op == Op::activation) activations.insert(n.activation);
      if (n.op == Op::concat) concat_inputs.insert(n.inputs.size());
    }
  CHECK(activations.size() == 6);
  CHECK(concat_inputs.count(2) == 1);
  CHECK(concat_inputs.count(3) == 1);
  for (Op op : {Op::conv2d, Op::batchnorm, Op::activation, Op::maxpool, Op::avgpool, Op::global_avgpool,
                Op::adaptive_avgpool, Op::add, Op::concat, Op::channel_scale, Op::linear, Op::flatten, Op::identity,
                Op::fill_step}) {
    INFO(std::string(op_name(op)));
    CHECK(ops.count(op) == 1);
  }

  const std::vector<std::string> columns = backend_columns();
  std::map<std::string, Coverage> coverage;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    CAPTURE(i);
    run_row(rows[i], columns, coverage);
  }

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  MESSAGE("op table: " << rows.size() << " rows, " << std::size(kMaskKinds) << " mask kinds x 3 fills x 2 executions, "
                       << seconds << " s");
  std::vector<std::string> summary = columns;
  summary.push_back(kEmbedded);
  for (const std::string& name : summary) {
    const Coverage& c = coverage[name];
    MESSAGE(name << ": " << c.clean << "/" << c.rows << " rows clean, " << c.masked << "/" << c.rows
                 << " masked, " << c.failing << " failing; clean unsupported: " << refused(c, c.clean_refused)
                 << "; masked unsupported: " << refused(c, c.masked_refused));
  }
  for (const std::string& name : configured_backends()) {
    if (std::find(columns.begin(), columns.end(), name) != columns.end()) continue;
    std::string why = "not offered";
    try {
      make_backend(name, Graph());
    } catch (const InputError& e) {
      why = e.what();
    }
    MESSAGE(name << ": built, its " << rows.size() << " rows skipped here (" << why << ")");
  }
  // native is the reference implementation: it must run every row; so
  // must the embedded forward, which has no other backend to fall back on.
  for (const std::string name : {"native", kEmbedded}) {
    CAPTURE(name);
    CHECK(coverage[name].clean == static_cast<int>(rows.size()));
    CHECK(coverage[name].masked == static_cast<int>(rows.size()));
    CHECK(coverage[name].failing == 0);
  }
}

TEST_CASE("op table: every configured backend is offered") {
  const std::vector<std::string> configured = configured_backends(), offered = available_backends();
  REQUIRE(!configured.empty());
  MESSAGE("configured backends: " << std::string(LMASK_TEST_BACKENDS));
  for (const std::string& name : configured) {
    CAPTURE(name);
    const bool is_offered = std::find(offered.begin(), offered.end(), name) != offered.end();
    if (name == "cuda" && !is_offered) {
      // Built, but no device visible: the registry must say so (not "not built").
      try {
        make_backend(name, Graph());
        FAIL("cuda is neither offered nor refused");
      } catch (const InputError& e) {
        const std::string why = e.what();
        CHECK(why.find("not built") == std::string::npos);
        CHECK(why.find("no CUDA device") != std::string::npos);
        MESSAGE("cuda is built but not offered: " << why);
      }
      continue;
    }
    CHECK(is_offered);
  }
  for (const std::string& name : offered) {
    CAPTURE(name);
    CHECK(std::find(configured.begin(), configured.end(), name) != configured.end());
  }
}

TEST_CASE("op table: the table notices a broken rule") {
  auto native = [](const Row& r) { return make_backend("native", r.graph); };

  SUBCASE("Fill::none is not the neighbour-average fill on a 3x3 conv with an irregular mask") {
    const Row row = find_row("conv2d", "3x3 p1, odd sizes");
    INFO(describe(row));
    const Tensor x = random_tensor(row.input, row.seed, row.lo, row.hi);
    const Tensor m = make_mask(MaskKind::irregular, row.input.n, row.input.h, row.input.w, row.seed + 50);
    const Tensor want = literal_masked_forward(row.graph, x, m, Fill::neighbour_average).x;
    auto backend = native(row);
    for (Execution e : kExecutions) {
      CAPTURE(execution_name(e));
      const double wrong = masked_error(*backend, x, m, Fill::none, e, want);
      const double right = masked_error(*backend, x, m, Fill::neighbour_average, e, want);
      CAPTURE(wrong);
      CAPTURE(right);
      CHECK(right <= kTolerance);
      CHECK(wrong > 100 * kTolerance);
    }
  }

  SUBCASE("a literal whose conv output mask is taken with stride 1 fails the stride-2 row") {
    const Row row = find_row("conv2d", "3x3 s2 p1, no bias");
    INFO(describe(row));
    const Tensor x = random_tensor(row.input, row.seed, row.lo, row.hi);
    auto backend = native(row);
    for (MaskKind kind : {MaskKind::irregular, MaskKind::patches}) {
      CAPTURE(mask_name(kind));
      const Tensor m = make_mask(kind, row.input.n, row.input.h, row.input.w, row.seed + 50);
      LiteralSabotage sabotage;
      sabotage.conv_mask_stride_one = true;
      for (Fill fill : kFills) {
        CAPTURE(fill_name(fill));
        const Tensor broken = literal_masked_forward(row.graph, x, m, fill, sabotage).x;
        const Tensor right = literal_masked_forward(row.graph, x, m, fill).x;
        for (Execution e : kExecutions) {
          CAPTURE(execution_name(e));
          CHECK(masked_error(*backend, x, m, fill, e, right) <= kTolerance);
          CHECK(masked_error(*backend, x, m, fill, e, broken) > kTolerance);
        }
      }
    }
  }
}
