// backends.h — the factories each backend folder provides to registry.cpp.
// Private to src/backend: callers use make_backend() from lmask/backend.h.
// Declaring a factory is harmless when its backend is not built; only the
// registry decides (with the build switches) which ones it calls.
#pragma once

#include <memory>

#include "lmask/backend.h"

namespace lmask::backends {

std::unique_ptr<Backend> make_native_graph(const Graph& graph);

std::unique_ptr<Backend> make_onednn_from_graph(const Graph& graph);

// Only where a device is visible: src/backend/cuda/cuda_device.h says.
std::unique_ptr<Backend> make_cuda_from_graph(const Graph& graph);

}  // namespace lmask::backends
