// graph_json.h — a Graph as text: the versioned JSON description a weight
// file may carry (root attribute `lmask_graph`; the format is
// docs/graph_format.md), so that a model the converter describes runs
// without a C++ builder of its own.
//
// A description holds the structure only. Every tensor in it is a name, the
// state_dict key under which the weight file stores it, so a file holds each
// tensor once, under its torchvision name, whether or not it describes its
// graph. It describes a graph as a model defines it, before any pass
// (graph_passes.h): folded or fused nodes have no description.
//
// Not here: where the text comes from (Weights::graph_json, read by
// load_weights) and which model a loader builds from it.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "lmask/graph.h"
#include "lmask/weights.h"

namespace lmask {

constexpr const char* kGraphFormatName = "lmask-graph";  // the "format" field
// The "version" field this build writes and the newest it reads. Any
// change a version-1 reader would misread (a new op, a new field) is a new
// version; a reader refuses versions newer than its own, naming both.
constexpr int kGraphFormatVersion = 1;
// Limits a description is checked against before they size anything: far
// above every torchvision CNN (DenseNet-201 has about 1,000 nodes), far below
// what would exhaust memory.
constexpr int kMaxGraphNodes = 1 << 16;
constexpr int kMaxGraphChannels = 1 << 16;
constexpr int kMaxGraphWindow = 4096;  // kernel, stride, padding, dilation, adaptive size
// One node's value for one image at the file's input size: 4 GiB as float32.
constexpr std::size_t kMaxGraphImageValues = std::size_t(1) << 30;

// The state_dict keys of one node's tensors (those of its op; the rest are
// unused): conv2d and linear read weight and bias, batchnorm all four
// (weight = gamma, bias = beta).
struct WeightNames {
  std::string weight, bias, running_mean, running_var;
};
using WeightNaming = std::function<WeightNames(const Node&)>;

// torchvision's keys: node.name + ".weight", ".bias", ".running_mean",
// ".running_var" ("features.0.1" -> "features.0.1.running_var"). The model
// builders name each node by its module's state_dict prefix, so this is the
// naming of every graph a builder makes.
WeightNames torchvision_weight_names(const Node& node);

// The names the tensors have in `weights`, found by address: how to
// describe again a graph read by graph_from_json, whose names need not be
// torchvision's (a description may name any key). A tensor that is not one
// of `weights` gets no name, which graph_to_json refuses.
WeightNaming weight_names_in(const Weights& weights);

// g's description, one node per line. Throws std::invalid_argument naming
// the node for what a description cannot hold: a node fused by a pass, a
// conv2d or linear without a weight, a name that is not UTF-8, two
// different tensors under one name.
std::string graph_to_json(const Graph& g, const WeightNaming& names = torchvision_weight_names);

// The tensors g's description names, by name: what a weight file beside
// the description must hold. Same checks as graph_to_json.
std::map<std::string, Tensor> graph_weights(const Graph& g, const WeightNaming& names = torchvision_weight_names);

// The graph `text` describes, its tensors taken from `weights` (shared, not
// copied). The file's node order is kept when it already is topological;
// otherwise the nodes are renumbered in topological_order. Each tensor's
// shape is checked against its node, then the whole graph by infer_shapes
// at the file's input size. Throws InputError, one line `source: problem`,
// for text that is not JSON, another format, a version newer than
// kGraphFormatVersion, an unknown op or field, a field twice, a missing
// field, a field of the wrong type or out of range, an input id out of
// range, a cycle, a weight name not in `weights`, a weight of the wrong
// shape, a graph whose shapes do not fit, or a value above
// kMaxGraphImageValues.
Graph graph_from_json(const std::string& text, const Weights& weights, const std::string& source);

// The graph a weight file describes (its attribute lmask_graph, in
// weights.graph_json), errors naming the file and the attribute. Throws
// InputError when the file has no description: a loader calls this only
// when weights.graph_json is not empty, and builds from `arch` otherwise.
Graph graph_from_description(const Weights& weights);

}  // namespace lmask
