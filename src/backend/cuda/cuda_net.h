// cuda_net.h — a fused Graph run on one GPU (private to the CUDA backend).
//
// Made once from a graph with its epilogues fused (graph_passes.h): the
// nodes are checked against the kernels there are (cuda_support.h), the
// weights uploaded (kept for the net's life; a standalone BatchNorm as its
// per-channel scale and shift), a stream and a cuBLAS handle
// created, and every node's value given an arena slot (value_slots.h). Per
// input shape (N,H,W), on first use, a Plan: every node's shape and one
// device arena holding the slots and the convolution workspace; the masked
// forward adds its fill buffers and masks to it on its first run. A run
// copies the input through a pinned buffer, launches kernels and cuBLAS
// calls on the stream, and copies the asked-for node's value back through
// another: no device memory is allocated after a shape's first run.
//
// The clean forward (cuda_clean.cpp) runs each node's op; the layer-masked
// one (cuda_masked.cpp) is masked_forward.h, the one masked forward, with
// CudaOps doing its steps on the device.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <map>
#include <memory>
#include <tuple>
#include <vector>

#include "cuda_conv.h"
#include "device_memory.h"
#include "lmask/graph.h"
#include "lmask/masked_ops.h"
#include "value_slots.h"

namespace lmask::backends::cuda {

class CudaNet {
 public:
  // Throws Unsupported naming the first node there is no kernel for.
  explicit CudaNet(Graph fused);
  ~CudaNet();
  CudaNet(const CudaNet&) = delete;
  CudaNet& operator=(const CudaNet&) = delete;

  const Graph& graph() const { return graph_; }
  // x [N,in_channels,H,W] -> node `until`'s value as a new NCHW tensor;
  // runs only the nodes it needs.
  Tensor run(const Tensor& x, int until);
  // The layer-masked forward of (x * m, m), m [N,1,H,W]: node `until`'s value.
  Tensor run_masked(const Tensor& x, const Mask& m, const LayerMaskingOptions& opt, int until);

  // Defined in cuda_plan.h, for the forwards only.
  struct Plan;
  struct MaskedState;

 private:
  friend class CudaOps;  // the masked forward's steps (cuda_masked.cpp)

  Plan& plan_for(const Shape& in);
  std::unique_ptr<Plan> build(const Shape& in) const;
  void upload(Plan& plan, const Tensor& x);
  Tensor download(Plan& plan, int id);
  void run_clean_node(Plan& plan, int id);

  // Steps both forwards take (cuda_net.cpp).
  ConvContext conv_context(const Plan& plan) const;
  DeviceConv device_conv(int id) const;
  // Input 0's value as node `id`'s: copied, unless the node runs in its
  // storage (value_slots.h).
  void take_input(Plan& plan, int id);
  void activate_in_place(Plan& plan, int id, Activation f);  // v = f(v)
  void batchnorm_in_place(Plan& plan, int id);  // v = BN(v)
  void add_second_input(Plan& plan, int id);    // v = v + x1
  void scale_channels(Plan& plan, int id);      // v = v * x1, x1 [N,C,1,1]
  void concat_inputs(Plan& plan, int id);       // v = the inputs along C
  void linear(Plan& plan, int id);              // v = x W^T + b

  Graph graph_;
  ValueSlots slots_;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t blas_ = nullptr;
  // Per node, empty buffers where none: a conv's or linear's weight and
  // bias; a batchnorm's scale and shift.
  std::vector<DeviceBuffer> weights_, biases_;
  std::map<std::tuple<int, int, int>, std::unique_ptr<Plan>> plans_;  // by (N, H, W)
  PinnedBuffer pinned_in_, pinned_out_;
};

}  // namespace lmask::backends::cuda
