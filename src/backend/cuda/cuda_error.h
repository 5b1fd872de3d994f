// cuda_error.h — turning CUDA runtime and cuBLAS status codes into exceptions
// (private to the CUDA backend). A failed call throws std::runtime_error
// naming the call and CUDA's own words for the error; nothing aborts.
// Not here: the "is there a device" question (cuda_device.h).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace lmask::backends::cuda {

inline void check(cudaError_t status, const char* call) {
  if (status != cudaSuccess)
    throw std::runtime_error(std::string("cuda: ") + call + ": " + cudaGetErrorString(status));
}

inline void check(cublasStatus_t status, const char* call) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(std::string("cuda: ") + call + ": " + cublasGetStatusString(status));
}

// After a kernel launch: a bad configuration shows up here, not at the launch.
inline void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

}  // namespace lmask::backends::cuda
