// device_memory.cpp — cudaMalloc / cudaMallocHost behind RAII handles.
#include "device_memory.h"

#include <cuda_runtime.h>

#include "cuda_error.h"

namespace lmask::backends::cuda {

DeviceBuffer::DeviceBuffer(std::size_t bytes) : bytes_(bytes) {
  if (bytes) check(cudaMalloc(&p_, bytes), "cudaMalloc");
}

DeviceBuffer::~DeviceBuffer() {
  if (p_) cudaFree(p_);
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
  if (this != &o) {
    if (p_) cudaFree(p_);
    p_ = o.p_, bytes_ = o.bytes_;
    o.p_ = nullptr, o.bytes_ = 0;
  }
  return *this;
}

PinnedBuffer::~PinnedBuffer() {
  if (p_) cudaFreeHost(p_);
}

void PinnedBuffer::reserve(std::size_t bytes) {
  if (bytes <= bytes_) return;
  if (p_) cudaFreeHost(p_);
  p_ = nullptr, bytes_ = 0;
  check(cudaMallocHost(&p_, bytes), "cudaMallocHost");
  bytes_ = bytes;
}

}  // namespace lmask::backends::cuda
