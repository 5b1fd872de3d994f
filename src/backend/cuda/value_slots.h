// value_slots.h — where each node's value lives in the CUDA backend's arena
// (private to the CUDA backend; host code, tested without a GPU).
//
// A value has a storage of its own, or lives in an earlier value's:
//   alias     flatten and identity pass their input's storage on (the same
//             NCHW floats, read under another shape);
//   in place  an op the forwards start from a copy of input 0 (activation,
//             add, batchnorm, channel_scale: masked_forward.h's from_input)
//             takes that storage over when no later node reads what is
//             there, and then needs no copy.
// Storages get arena slots greedily in node order, by liveness: a node's
// new storage takes a free slot before the node frees the storages it read
// for the last time, so no node writes where it reads except in place. The
// plan holds for a forward to any node: it runs a prefix of the order.
#pragma once

#include <vector>

#include "lmask/graph.h"

namespace lmask::backends::cuda {

struct ValueSlots {
  std::vector<int> storage;  // per node: the node whose storage holds its value (itself: its own)
  std::vector<int> slot;     // per node: its storage's slot
  int slots = 0;             // slots in all
};

ValueSlots plan_value_slots(const Graph& g);

}  // namespace lmask::backends::cuda
