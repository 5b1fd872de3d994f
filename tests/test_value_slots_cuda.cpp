// test_value_slots_cuda.cpp — the CUDA backend's arena plan (value_slots.h),
// host code only: these cases run without a GPU too (test suite "host",
// test_main_cuda.cpp).
//
// The property that matters: replaying the plan node by node, every node
// finds each of its inputs' values still in its slot, and a node writes
// where it reads only in place. Checked on hand-made graphs with the slots
// they must get, and on random DAGs of every op kind.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "lmask/graph.h"
#include "value_slots.h"

using namespace lmask;
using lmask::backends::cuda::plan_value_slots;
using lmask::backends::cuda::ValueSlots;

namespace {

int add(Graph& g, Op op, std::vector<int> inputs) { return g.add(Node(op, std::move(inputs), op_name(op))); }

// Replays `p` on `g`: per slot, the node whose value was last written there.
// Returns "" or the first problem found.
std::string replay(const Graph& g, const ValueSlots& p) {
  auto where = [&](int id) { return "node " + std::to_string(id) + " (" + op_name(g.nodes[id].op) + ")"; };
  if (p.storage.size() != g.nodes.size() || p.slot.size() != g.nodes.size()) return "plan of the wrong size";
  std::vector<int> holds(p.slots, -1);
  std::vector<int> bytes_of(g.nodes.size(), -1);  // per node: the node that wrote its bytes
  for (int id = 0; id < g.size(); ++id) {
    const Node& node = g.nodes[id];
    if (p.slot[id] < 0 || p.slot[id] >= p.slots) return where(id) + " has no slot";
    if (p.slot[id] != p.slot[p.storage[id]]) return where(id) + " is not in its storage's slot";
    for (int in : node.inputs)
      if (holds[p.slot[in]] != bytes_of[in]) return where(id) + " finds input " + std::to_string(in) + " overwritten";
    const bool alias = node.op == Op::flatten || node.op == Op::identity;
    if (alias) {
      if (p.storage[id] != p.storage[node.inputs[0]]) return where(id) + " does not pass its input's storage on";
      bytes_of[id] = bytes_of[node.inputs[0]];
      continue;
    }
    const bool in_place = p.storage[id] != id;
    if (in_place && p.storage[id] != p.storage[node.inputs[0]]) return where(id) + " is in place over a non-input";
    if (!in_place)
      for (int in : node.inputs)
        if (p.slot[in] == p.slot[id]) return where(id) + " writes where it reads input " + std::to_string(in);
    holds[p.slot[id]] = id;
    bytes_of[id] = id;
  }
  return "";
}

// A random DAG of `count` nodes over every op the planner tells apart:
// plain writers, in-place candidates, aliases; inputs mostly recent nodes.
Graph random_graph(int count, std::uint32_t seed) {
  std::mt19937 rng(seed);
  const Op ops[] = {Op::conv2d, Op::maxpool, Op::activation, Op::add, Op::batchnorm, Op::channel_scale,
                    Op::flatten, Op::identity, Op::concat, Op::linear};
  Graph g;
  for (int id = 1; id < count; ++id) {
    auto pick = [&] { return std::max(0, id - 1 - int(rng() % std::min(id, 4))); };
    const Op op = ops[rng() % std::size(ops)];
    std::vector<int> inputs{pick()};
    const bool two = op == Op::add || op == Op::channel_scale || (op == Op::conv2d && rng() % 2) ||
                     (op == Op::concat && rng() % 2);
    if (two) inputs.push_back(pick());
    if (op == Op::concat && rng() % 2) inputs.push_back(pick());
    add(g, op, inputs);
  }
  g.output = g.size() - 1;
  return g;
}

}  // namespace

TEST_SUITE("host") {

TEST_CASE("cuda: value slots: a chain takes two slots, relu and add run in place, flatten aliases") {
  {  // x -> conv -> conv -> conv: ping-pong
    Graph g;
    add(g, Op::conv2d, {add(g, Op::conv2d, {add(g, Op::conv2d, {0})})});
    const ValueSlots p = plan_value_slots(g);
    CHECK(replay(g, p) == "");
    CHECK(p.slots == 2);
    CHECK(p.slot == std::vector<int>{0, 1, 0, 1});
  }
  {  // x -> conv c -> relu r (c read again: a copy) -> add(r, c) in r's storage -> flatten -> linear
    Graph g;
    const int c = add(g, Op::conv2d, {0});
    const int r = add(g, Op::activation, {c});
    const int a = add(g, Op::add, {r, c});
    const int f = add(g, Op::flatten, {a});
    const int fc = add(g, Op::linear, {f});
    const ValueSlots p = plan_value_slots(g);
    CHECK(replay(g, p) == "");
    CHECK(p.storage[r] == r);
    CHECK(p.storage[a] == r);
    CHECK(p.storage[f] == r);
    CHECK(p.slot[fc] != p.slot[r]);
  }
  {  // the input's last reader works in its storage: the forwards upload their own copy
    Graph g;
    const int r = add(g, Op::activation, {0});
    const ValueSlots p = plan_value_slots(g);
    CHECK(replay(g, p) == "");
    CHECK(p.storage[r] == 0);
    CHECK(p.slots == 1);
  }
  {  // a ResNet block with its join fused: x, conv1, conv2, downsample, conv3 + downsample
    Graph g;
    const int c1 = add(g, Op::conv2d, {0});
    const int c2 = add(g, Op::conv2d, {c1});
    const int d = add(g, Op::conv2d, {0});
    const int c3 = add(g, Op::conv2d, {c2, d});
    const ValueSlots p = plan_value_slots(g);
    CHECK(replay(g, p) == "");
    CHECK(p.slots == 3);
    CHECK(p.slot[c3] != p.slot[d]);
  }
}

TEST_CASE("cuda: value slots: random graphs of every op kind replay without a value overwritten") {
  for (std::uint32_t seed = 1; seed <= 300; ++seed) {
    CAPTURE(seed);
    const Graph g = random_graph(2 + int(seed % 40), seed);
    const ValueSlots p = plan_value_slots(g);
    CHECK(replay(g, p) == "");
    CHECK(p.slots <= g.size());
  }
}

}  // TEST_SUITE("host")
