// value_slots.cpp — the CUDA arena's slots by liveness (value_slots.h).
#include "value_slots.h"

#include <algorithm>

namespace lmask::backends::cuda {

namespace {

bool passes_storage_on(Op op) { return op == Op::flatten || op == Op::identity; }

// The ops masked_forward.h starts from input 0's value (from_input); the
// clean forward does the same, so both may run them in that storage.
bool rewrites_input(Op op) {
  return op == Op::activation || op == Op::add || op == Op::batchnorm || op == Op::channel_scale;
}

}  // namespace

ValueSlots plan_value_slots(const Graph& g) {
  const int count = g.size();
  std::vector<int> last_read(count, -1);  // per node: the last node reading its value
  for (int id = 0; id < count; ++id)
    for (int in : g.nodes[id].inputs) last_read[in] = std::max(last_read[in], id);

  ValueSlots p;
  p.storage.assign(count, -1);
  p.slot.assign(count, -1);
  // Per storage: the last node reading any value it has held so far; -1:
  // none (a value nobody reads, the output, keeps its slot).
  std::vector<int> busy_until(count, -1);
  std::vector<bool> freed(count, false);
  std::vector<int> free_slots;
  for (int id = 0; id < count; ++id) {
    const Node& node = g.nodes[id];
    int s = id;
    if (passes_storage_on(node.op)) {
      s = p.storage[node.inputs[0]];
    } else if (rewrites_input(node.op)) {
      // Input 0 is read here, so busy_until is at least id; exactly id when
      // no later node reads this storage's contents.
      const int held = p.storage[node.inputs[0]];
      if (busy_until[held] == id) s = held;
    }
    p.storage[id] = s;
    busy_until[s] = std::max(busy_until[s], last_read[id]);
    if (s == id) {
      if (free_slots.empty()) {
        p.slot[id] = p.slots++;
      } else {
        p.slot[id] = free_slots.back();
        free_slots.pop_back();
      }
    } else {
      p.slot[id] = p.slot[s];
    }
    for (int in : node.inputs) {
      const int t = p.storage[in];
      if (busy_until[t] == id && !freed[t]) {
        freed[t] = true;
        free_slots.push_back(p.slot[t]);
      }
    }
  }
  return p;
}

}  // namespace lmask::backends::cuda
