// graph_from_weights.h — which builder turns a weight file into a graph:
// the one place that decides (private to src/model; Model::from_weights
// calls it).
#pragma once

#include <memory>

#include "lmask/graph.h"
#include "lmask/resnet.h"
#include "lmask/weights.h"

namespace lmask {

struct BuiltGraph {
  Graph graph;   // BatchNorm folded, epilogues not yet fused
  Weights meta;  // the file's attributes, no params
  // embedded: the network the ResNet builder made (its tensors are the
  // graph's), for the arena forward until it takes the graph; nullptr when
  // another builder made the graph.
  std::shared_ptr<ResNet> resnet;
};

// Takes the weights by value: the builder folds them in place. Throws
// InputError naming weights.path for a file no builder can make a graph of.
BuiltGraph graph_from_weights(Weights weights);

}  // namespace lmask
