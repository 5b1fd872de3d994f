// cuda_net.cpp — CudaNet's construction, per-shape plans, the copies in and
// out, and the steps both forwards take. The forwards themselves are
// cuda_clean.cpp and cuda_masked.cpp.
#include "cuda_net.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "cuda_error.h"
#include "cuda_plan.h"
#include "cuda_support.h"
#include "kernels.h"

namespace lmask::backends::cuda {

namespace {

// The columns workspace never exceeds this (256 MiB): chunks of images or
// positions keep it bounded at any batch size.
constexpr std::size_t kMaxWorkFloats = std::size_t(64) << 20;

DeviceBuffer upload_tensor(const Tensor& t) {
  if (t.empty()) return DeviceBuffer();
  DeviceBuffer b(t.numel() * sizeof(float));
  check(cudaMemcpy(b.as(), t.data(), b.bytes(), cudaMemcpyHostToDevice), "cudaMemcpy (weights)");
  return b;
}

// A standalone BatchNorm as x * scale + shift per channel: the factors made
// in float exactly as the native kernel makes them (kernels::batchnorm), so
// both backends run the same affine map.
void batchnorm_factors(const BatchNormParams& bn, Tensor& scale, Tensor& shift) {
  const int c = static_cast<int>(bn.gamma.numel());
  scale = Tensor({1, c, 1, 1}), shift = Tensor({1, c, 1, 1});
  for (int i = 0; i < c; ++i) {
    scale.data()[i] = bn.gamma.data()[i] / std::sqrt(bn.var.data()[i] + bn.eps);
    shift.data()[i] = bn.beta.data()[i] - bn.mean.data()[i] * scale.data()[i];
  }
}

}  // namespace

CudaNet::CudaNet(Graph fused) : graph_(std::move(fused)) {
  check_supported(graph_);
  for (int id = 1; id < graph_.size(); ++id) {
    const Node& node = graph_.nodes[id];
    if ((node.op == Op::conv2d || node.op == Op::linear) && node.weight.empty())
      throw std::invalid_argument("cuda: " + node_label(graph_, id) + " has no weight");
    if (node.op == Op::conv2d) check_shape(node.weight, node.conv.weight_shape(), "cuda conv weight");
    if (node.op == Op::batchnorm) {
      const std::size_t c = node.bn.gamma.numel();
      if (c == 0 || node.bn.beta.numel() != c || node.bn.mean.numel() != c || node.bn.var.numel() != c)
        throw std::invalid_argument("cuda: " + node_label(graph_, id) + ": its four parameters differ in size");
    }
  }
  slots_ = plan_value_slots(graph_);
  check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
  check(cublasCreate(&blas_), "cublasCreate");
  check(cublasSetStream(blas_, stream_), "cublasSetStream");
  // Plain float32 products (no TF32): the results must match native to 1e-3.
  check(cublasSetMathMode(blas_, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
  for (const Node& node : graph_.nodes) {
    const bool has_weights = node.op == Op::conv2d || node.op == Op::linear;
    Tensor scale, shift;
    if (node.op == Op::batchnorm) batchnorm_factors(node.bn, scale, shift);
    weights_.push_back(has_weights ? upload_tensor(node.weight) : upload_tensor(scale));
    biases_.push_back(has_weights ? upload_tensor(node.bias) : upload_tensor(shift));
  }
}

CudaNet::~CudaNet() {
  plans_.clear();
  if (blas_) cublasDestroy(blas_);
  if (stream_) cudaStreamDestroy(stream_);
}

std::unique_ptr<CudaNet::Plan> CudaNet::build(const Shape& in) const {
  auto plan = std::make_unique<Plan>();
  plan->shapes = infer_shapes(graph_, in);  // InputError naming the node that does not fit
  for (const Shape& s : plan->shapes) plan->slot_floats = std::max(plan->slot_floats, s.numel());
  plan->slot_floats = (plan->slot_floats + 63) / 64 * 64;  // 256-byte aligned slots
  for (int id = 1; id < graph_.size(); ++id) {
    const Node& node = graph_.nodes[id];
    if (node.op == Op::conv2d)
      plan->work_floats = std::max(plan->work_floats,
                                   conv_workspace_floats(node.conv, planes(plan->shapes[node.inputs[0]], plan->shapes[id]),
                                                         kMaxWorkFloats));
  }
  plan->arena = DeviceBuffer((plan->slot_floats * slots_.slots + plan->work_floats) * sizeof(float));
  for (int id = 0; id < graph_.size(); ++id)
    plan->value.push_back(plan->arena.as() + plan->slot_floats * slots_.slot[id]);
  plan->work = plan->arena.as() + plan->slot_floats * slots_.slots;
  return plan;
}

CudaNet::Plan& CudaNet::plan_for(const Shape& in) {
  auto& plan = plans_[{in.n, in.h, in.w}];
  if (!plan) plan = build(in);
  return *plan;
}

void CudaNet::upload(Plan& plan, const Tensor& x) {
  const std::size_t bytes = x.numel() * sizeof(float);
  pinned_in_.reserve(bytes);
  std::memcpy(pinned_in_.data(), x.data(), bytes);
  check(cudaMemcpyAsync(plan.value[0], pinned_in_.data(), bytes, cudaMemcpyHostToDevice, stream_),
        "cudaMemcpyAsync (input)");
}

Tensor CudaNet::download(Plan& plan, int id) {
  Tensor out(plan.shapes[id]);
  const std::size_t bytes = out.numel() * sizeof(float);
  pinned_out_.reserve(bytes);
  check(cudaMemcpyAsync(pinned_out_.data(), plan.value[id], bytes, cudaMemcpyDeviceToHost, stream_),
        "cudaMemcpyAsync (output)");
  check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
  std::memcpy(out.data(), pinned_out_.data(), bytes);
  return out;
}

ConvContext CudaNet::conv_context(const Plan& plan) const {
  return ConvContext{blas_, stream_, plan.work, plan.work_floats};
}

DeviceConv CudaNet::device_conv(int id) const {
  return DeviceConv{graph_.nodes[id].conv, weights_[id].as(), biases_[id].as()};
}

void CudaNet::take_input(Plan& plan, int id) {
  const int src = graph_.nodes[id].inputs[0];
  if (slots_.storage[id] == slots_.storage[src]) return;
  check(cudaMemcpyAsync(plan.value[id], plan.value[src], plan.shapes[id].numel() * sizeof(float),
                        cudaMemcpyDeviceToDevice, stream_),
        "cudaMemcpyAsync (a node's input)");
}

void CudaNet::activate_in_place(Plan& plan, int id, Activation f) {
  activate(plan.value[id], plan.shapes[id].numel(), f, stream_);
}

void CudaNet::batchnorm_in_place(Plan& plan, int id) {
  const Shape& s = plan.shapes[id];
  batchnorm(plan.value[id], weights_[id].as(), biases_[id].as(), s.n, s.c, int(s.plane_size()), stream_);
}

// conv_epilogue without bias and scale is the elementwise part of a conv's
// epilogue: + residual, on any [N,C,P].
void CudaNet::add_second_input(Plan& plan, int id) {
  const Shape& s = plan.shapes[id];
  conv_epilogue(plan.value[id], nullptr, plan.value[graph_.nodes[id].inputs[1]], nullptr, s.n, s.c,
                int(s.plane_size()), PostActivation{}, stream_);
}

void CudaNet::scale_channels(Plan& plan, int id) {
  const Shape& s = plan.shapes[id];
  channel_scale(plan.value[id], plan.value[graph_.nodes[id].inputs[1]], s.n, s.c, int(s.plane_size()), stream_);
}

// Per input, one strided copy: its N blocks of [C_i,H,W] into rows of the
// output's [C,H,W] images, at its channel offset.
void CudaNet::concat_inputs(Plan& plan, int id) {
  const Shape& out = plan.shapes[id];
  const std::size_t plane_bytes = out.plane_size() * sizeof(float);
  std::size_t offset = 0;  // bytes into each output image
  for (int src : graph_.nodes[id].inputs) {
    const std::size_t bytes = std::size_t(plan.shapes[src].c) * plane_bytes;
    check(cudaMemcpy2DAsync(reinterpret_cast<char*>(plan.value[id]) + offset, out.c * plane_bytes, plan.value[src],
                            bytes, bytes, out.n, cudaMemcpyDeviceToDevice, stream_),
          "cudaMemcpy2DAsync (concat)");
    offset += bytes;
  }
}

void CudaNet::linear(Plan& plan, int id) {
  // Row-major y [N,O] = x [N,I] . W [O,I]^T, as column-major y^T = W^T' . x^T.
  const Node& node = graph_.nodes[id];
  const Shape& out = plan.shapes[id];
  const int n = out.n, o = out.c, in = node.weight.c();
  const float one = 1.f, zero = 0.f;
  check(cublasSgemm(blas_, CUBLAS_OP_T, CUBLAS_OP_N, o, n, in, &one, weights_[id].as(), in,
                    plan.value[node.inputs[0]], in, &zero, plan.value[id], o),
        "cublasSgemm (linear)");
  if (biases_[id].as()) add_bias(plan.value[id], biases_[id].as(), n, o, stream_);
}

}  // namespace lmask::backends::cuda
