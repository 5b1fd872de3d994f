// cuda_net.h — a LayerGraph run on one GPU (private to the CUDA backend).
//
// Made once: the weights are uploaded (kept for the net's life), a stream
// and a cuBLAS handle created. Per input shape (N,H,W), on first use, a Plan:
// every activation's shape, and one device arena holding the activations
// (activations never alive together share a slot) and the convolution
// workspace; the masked forward adds its fill buffers and masks to it on its
// first run. A run copies the input through a pinned buffer, launches
// kernels and cuBLAS calls on the stream, and copies the asked-for
// activation back through another: nothing is allocated but the returned tensor.
//
// run_masked follows shared/spec/LAYER_MASKING.md (mask_rules.h) on the
// graph's layers: conv (fill, conv, mask, and the residual join when the
// layer has a residual), max-pool, the masked average pool, linear.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <map>
#include <memory>
#include <tuple>
#include <vector>

#include "device_memory.h"
#include "lmask/backend.h"

namespace lmask::backends::cuda {

class CudaNet {
 public:
  // Checks the graph (indices, weight shapes) and uploads its weights.
  explicit CudaNet(LayerGraph graph);
  ~CudaNet();
  CudaNet(const CudaNet&) = delete;
  CudaNet& operator=(const CudaNet&) = delete;

  const LayerGraph& graph() const { return graph_; }
  // x [N,in_channels,H,W] -> activation `index` (0..graph().output()) as a
  // new NCHW tensor; runs only the layers it needs.
  Tensor run(const Tensor& x, int index);
  // The layer-masked forward of (x * m, m), m [N,1,H,W]: activation `index`.
  Tensor run_masked(const Tensor& x, const Mask& m, const LayerMaskingOptions& opt, int index);

 // Defined in cuda_plan.h, for cuda_net.cpp and cuda_masked.cpp only.
  struct Plan;
  struct MaskedState;

 private:
  Plan& plan_for(const Shape& in);
  std::unique_ptr<Plan> build(const Shape& in) const;
  void upload(Plan& plan, const Tensor& x);
  Tensor download(Plan& plan, int index);
  void run_clean_layer(Plan& plan, int i);
  void run_masked_layer(Plan& plan, int i, const LayerMaskingOptions& opt);
  void run_linear(Plan& plan, int i);

  LayerGraph graph_;
  std::vector<int> last_read_;  // per activation: the last layer reading it; -1: none
  cudaStream_t stream_ = nullptr;
  cublasHandle_t blas_ = nullptr;
  std::vector<DeviceBuffer> weights_, biases_;  // per layer; empty buffers where none
  std::map<std::tuple<int, int, int>, std::unique_ptr<Plan>> plans_;  // by (N, H, W)
  PinnedBuffer pinned_in_, pinned_out_;
};

}  // namespace lmask::backends::cuda
