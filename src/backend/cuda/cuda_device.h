// cuda_device.h — whether this process can run the CUDA backend at all.
// Private to src/backend; the registry asks it before offering "cuda".
#pragma once

#include <string>

namespace lmask::backends {

// "" when a CUDA device is visible; otherwise one line saying why not, e.g.
// "no CUDA device visible (cudaGetDeviceCount: no CUDA-capable device is detected)".
std::string cuda_unavailable_reason();

}  // namespace lmask::backends
