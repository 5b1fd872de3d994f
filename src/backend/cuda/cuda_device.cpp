// cuda_device.cpp — asks the CUDA runtime for a device once per process.
// Without a driver or a GPU, cudaGetDeviceCount fails (or reports 0): that is
// the answer, not an error, so nothing here throws.
#include "cuda_device.h"

#include <cuda_runtime.h>

namespace lmask::backends {

std::string cuda_unavailable_reason() {
  static const std::string reason = [] {
    int count = 0;
    const cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess) {
      cudaGetLastError();  // clear the sticky error so later calls start clean
      return std::string("no CUDA device visible (cudaGetDeviceCount: ") + cudaGetErrorString(status) + ")";
    }
    if (count == 0) return std::string("no CUDA device visible (cudaGetDeviceCount: 0 devices)");
    return std::string();
  }();
  return reason;
}

}  // namespace lmask::backends
