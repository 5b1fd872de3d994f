// graph_json_entry.cpp — fuzzing the graph-description reader (graph_json.h)
// on the description's text (fuzz_entries.h).
//
// The text is read against the tensors of the two cases of
// tests/graph_json_cases.h (the every-op graph and the small ResNet-18,
// whose names the seeds use), so mutations of a seed get past the name
// lookups to the shape checks. A description that reads must describe its
// graph again (with the names its tensors have in the file), and that text
// must read back to itself: the reader never builds a graph the writer
// cannot describe.
#include <cstdlib>
#include <string>

#include "fuzz_entries.h"
#include "graph_json_cases.h"
#include "lmask/error.h"
#include "lmask/graph_json.h"

namespace lmask::fuzz {

namespace {

const Weights& case_weights() {
  static const Weights w = [] {
    Weights all = testing::weights_of(testing::every_op_graph(testing::random_tensors(1)));
    const Weights resnet = testing::weights_of(testing::small_resnet18_graph(testing::random_tensors(1000)));
    all.params.insert(resnet.params.begin(), resnet.params.end());
    all.dims.insert(resnet.dims.begin(), resnet.dims.end());
    return all;
  }();
  return w;
}

}  // namespace

void graph_json_entry(const std::uint8_t* data, std::size_t size) {
  const Weights& w = case_weights();
  Graph g;
  try {
    g = graph_from_json(std::string(reinterpret_cast<const char*>(data), size), w, "fuzz.json");
  } catch (const InputError&) {
    return;
  }
  // Throws (a finding) if the graph cannot be described.
  const std::string again = graph_to_json(g, weight_names_in(w));
  if (graph_to_json(graph_from_json(again, w, "again.json"), weight_names_in(w)) != again) std::abort();
}

}  // namespace lmask::fuzz
