// backends.h — the factories each backend folder provides to registry.cpp.
// Private to src/backend: callers use make_backend() from lmask/backend.h.
// Declaring a factory is harmless when its backend is not built; only the
// registry decides (with the build switches) which ones it calls.
#pragma once

#include <memory>

#include "lmask/backend.h"

namespace lmask::backends {

std::unique_ptr<Backend> make_native(const ResNet& net);

std::unique_ptr<Backend> make_onednn(const ResNet& net);
std::unique_ptr<Backend> make_onednn_graph(const LayerGraph& graph);

// Only where a device is visible: src/backend/cuda/cuda_device.h says.
std::unique_ptr<Backend> make_cuda(const ResNet& net);
std::unique_ptr<Backend> make_cuda_graph(const LayerGraph& graph);

}  // namespace lmask::backends
