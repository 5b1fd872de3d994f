// cuda_plan.h — what CudaNet prepares per input shape (private to the CUDA
// backend's forwards): every node's shape, where its value lives in the
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
  // Two per node: [2 id] its mask, [2 id + 1] a conv's own window mask
  // before its fused residual join; then `all_visible`, the mask of every
  // node whose mask has ended ([N,1,1,1], ones, written once).
  std::vector<DeviceMask> masks;
  int all_visible = -1;
  std::vector<int> mask_of;  // per node: its mask's index in masks (a node keeping its input's mask shares it)
};

struct CudaNet::Plan {
  std::vector<Shape> shapes;  // per node
  std::vector<float*> value;  // per node, into the arena (ValueSlots: aliases share)
  DeviceBuffer arena;
  std::size_t slot_floats = 0;  // every slot's size
  float* work = nullptr;        // convolution columns
  std::size_t work_floats = 0;
  std::unique_ptr<MaskedState> masked;  // made on the first masked run
};

inline Planes planes(const Shape& in, const Shape& out) { return {in.n, in.h, in.w, out.h, out.w}; }

}  // namespace lmask::backends::cuda
