// cuda_plan.h — what CudaNet prepares per input shape (private to
// cuda_net.cpp and cuda_masked.cpp): activation shapes, their places in the
// device arena, the convolution workspace, and the masked forward's extras.
#pragma once

#include <vector>

#include "cuda_conv.h"
#include "cuda_net.h"

namespace lmask::backends::cuda {

// A mask on the device with its visible positions, counted on first need.
struct DeviceMask {
  float* m = nullptr;         // [N,1,H,W]
  int* positions = nullptr;   // room for N*H*W flat indices
  std::size_t size = 0;       // N*H*W
  int count = -1;             // visible positions; -1: not counted in this run
};

// The masked forward's memory, carved from one allocation on its first run.
struct CudaNet::MaskedState {
  DeviceBuffer memory;
  float* fill[2] = {nullptr, nullptr};   // the fill's ping-pong activations
  float* known[2] = {nullptr, nullptr};  // and its known maps
  float* inv_scale = nullptr;            // partial convolution's divisors
  void* scratch = nullptr;               // stream compaction's
  std::size_t scratch_bytes = 0;
  int* visible = nullptr;                // compaction's count, on the device
  PinnedBuffer visible_host;             // ... and copied back
  // Two per activation: [2a] its mask, [2a+1] a residual conv's own output
  // mask before the join.
  std::vector<DeviceMask> masks;
  std::vector<int> mask_of;  // per activation: index into masks (1x1 convs share their input's)
};

struct CudaNet::Plan {
  std::vector<Shape> shapes;  // per activation
  std::vector<float*> act;    // per activation, into the arena
  DeviceBuffer arena;
  std::size_t slot_floats = 0;  // every activation slot's size
  float* work = nullptr;        // convolution columns
  std::size_t work_floats = 0;
  std::unique_ptr<MaskedState> masked;  // made on the first masked run
};

inline Planes planes(const Shape& in, const Shape& out) { return {in.n, in.h, in.w, out.h, out.w}; }

}  // namespace lmask::backends::cuda
