// device_memory.h — owning handles for GPU memory and page-locked host
// memory (private to the CUDA backend). Move-only; freed on destruction.
// Not here: how a forward carves its arena (cuda_net.cpp).
#pragma once

#include <cstddef>

namespace lmask::backends::cuda {

// cudaMalloc'd floats; `floats` may be 0 (then data() is nullptr).
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t bytes);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& o) noexcept : p_(o.p_), bytes_(o.bytes_) { o.p_ = nullptr, o.bytes_ = 0; }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  template <typename T = float>
  T* as() const { return static_cast<T*>(p_); }
  std::size_t bytes() const { return bytes_; }

 private:
  void* p_ = nullptr;
  std::size_t bytes_ = 0;
};

// cudaMallocHost'd (pinned) bytes: the staging area of every host<->device
// copy, so copies run at full bus speed and asynchronously.
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  ~PinnedBuffer();
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  // At least `bytes`, keeping the old block when it is large enough.
  void reserve(std::size_t bytes);
  float* data() const { return static_cast<float*>(p_); }

 private:
  void* p_ = nullptr;
  std::size_t bytes_ = 0;
};

}  // namespace lmask::backends::cuda
