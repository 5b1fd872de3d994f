// zoo.h — torchvision's CNNs beyond the ResNets, built from a weight file's
// state_dict keys (src/model/zoo_builder.h): SqueezeNet 1.0/1.1,
// DenseNet-121/161/169/201, MobileNetV3-Large/Small, EfficientNet-B0..B7,
// layer-masked as the authors' code does (shared/spec/LAYER_MASKING_ZOO.md).
// Model::load picks these by the file's `arch`; the embedded build, which
// has no Model, calls them itself.
#pragma once

#include <string>

#include "lmask/graph.h"
#include "lmask/weights.h"

namespace lmask {

// Whether `arch` names one of the architectures above.
bool is_zoo_arch(const std::string& arch);

// The graph of w.arch, its nodes sharing w's tensors, BatchNorm as nodes
// (fold_batchnorms, graph_passes.h, folds them). Throws InputError naming
// w.path when the file is not of that architecture (a missing key, a
// shape that does not chain, a key the architecture has no place for).
Graph zoo_graph(const Weights& w);

}  // namespace lmask
