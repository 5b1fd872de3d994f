// cuda_net.cpp — CudaNet's construction, per-shape plans, the clean forward
// and the copies in and out. The masked forward is cuda_masked.cpp.
#include "cuda_net.h"

#include <cstring>
#include <stdexcept>
#include <string>

#include "cuda_error.h"
#include "cuda_plan.h"
#include "kernels.h"

namespace lmask::backends::cuda {

namespace {

// The columns workspace never exceeds this (256 MiB): chunks of images or
// positions keep it bounded at any batch size.
constexpr std::size_t kMaxWorkFloats = std::size_t(64) << 20;

DeviceBuffer upload_tensor(const Tensor* t) {
  if (!t || t->empty()) return DeviceBuffer();
  DeviceBuffer b(t->numel() * sizeof(float));
  check(cudaMemcpy(b.as(), t->data(), b.bytes(), cudaMemcpyHostToDevice), "cudaMemcpy (weights)");
  return b;
}

}  // namespace

CudaNet::CudaNet(LayerGraph graph) : graph_(std::move(graph)) {
  const int acts = graph_.output() + 1;
  last_read_.assign(acts, -1);
  for (int i = 0; i < graph_.output(); ++i) {
    const Layer& l = graph_.layers[i];
    if (l.src < 0 || l.src > i || l.residual > i)
      throw std::invalid_argument("cuda: layer " + std::to_string(i) + " reads an activation not yet made");
    if ((l.op == Layer::Op::conv || l.op == Layer::Op::linear) && !l.weight)
      throw std::invalid_argument("cuda: layer " + std::to_string(i) + " has no weight");
    if (l.op == Layer::Op::conv) check_shape(*l.weight, l.conv.weight_shape(), "cuda conv weight");
    last_read_[l.src] = i;
    if (l.residual >= 0) last_read_[l.residual] = i;
  }
  check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
  check(cublasCreate(&blas_), "cublasCreate");
  check(cublasSetStream(blas_, stream_), "cublasSetStream");
  // Plain float32 products (no TF32): the results must match native to 1e-3.
  check(cublasSetMathMode(blas_, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
  for (const Layer& l : graph_.layers) {
    weights_.push_back(upload_tensor(l.weight));
    biases_.push_back(upload_tensor(l.bias));
  }
}

CudaNet::~CudaNet() {
  plans_.clear();
  if (blas_) cublasDestroy(blas_);
  if (stream_) cudaStreamDestroy(stream_);
}

std::unique_ptr<CudaNet::Plan> CudaNet::build(const Shape& in) const {
  auto plan = std::make_unique<Plan>();
  if (in.c != graph_.in_channels)
    throw std::invalid_argument("cuda: input has " + std::to_string(in.c) + " channels, the graph wants " +
                                std::to_string(graph_.in_channels));
  const int acts = graph_.output() + 1;
  plan->shapes.push_back(in);
  for (int i = 0; i < graph_.output(); ++i) {
    const Layer& l = graph_.layers[i];
    const Shape& s = plan->shapes[l.src];
    Shape out;
    switch (l.op) {
      case Layer::Op::conv:
        if (s.c != l.conv.in_channels) throw std::invalid_argument("cuda: conv input channels mismatch");
        out = l.conv.out_shape(s);
        break;
      case Layer::Op::maxpool:
        out = {s.n, s.c, pool_out_size(s.h, l.conv.kernel, l.conv.stride, l.conv.padding),
               pool_out_size(s.w, l.conv.kernel, l.conv.stride, l.conv.padding)};
        break;
      case Layer::Op::global_avgpool: out = {s.n, s.c, 1, 1}; break;
      case Layer::Op::linear:
        if (std::size_t(l.weight->c()) != s.image_size()) throw std::invalid_argument("cuda: linear input size mismatch");
        out = {s.n, l.weight->n(), 1, 1};
        break;
    }
    if (l.residual >= 0 && plan->shapes[l.residual] != out)
      throw std::invalid_argument("cuda: residual " + plan->shapes[l.residual].str() + " does not fit " + out.str());
    plan->shapes.push_back(out);
  }
  // Slots: an activation takes a free slot before the ones it frees, so a
  // layer never writes where it reads.
  std::vector<int> slot_of(acts, -1), free_slots;
  int slots = 0;
  slot_of[0] = slots++;
  for (int i = 0; i < graph_.output(); ++i) {
    const Layer& l = graph_.layers[i];
    if (free_slots.empty()) {
      slot_of[i + 1] = slots++;
    } else {
      slot_of[i + 1] = free_slots.back();
      free_slots.pop_back();
    }
    for (int a : {l.src, l.residual})
      if (a >= 0 && last_read_[a] == i && (a != l.residual || l.residual != l.src)) free_slots.push_back(slot_of[a]);
  }
  for (const Shape& s : plan->shapes) plan->slot_floats = std::max(plan->slot_floats, s.numel());
  plan->slot_floats = (plan->slot_floats + 63) / 64 * 64;  // 256-byte aligned slots
  for (int i = 0; i < graph_.output(); ++i) {
    const Layer& l = graph_.layers[i];
    if (l.op == Layer::Op::conv)
      plan->work_floats = std::max(plan->work_floats,
                                   conv_workspace_floats(l.conv, planes(plan->shapes[l.src], plan->shapes[i + 1]),
                                                         kMaxWorkFloats));
  }
  plan->arena = DeviceBuffer((plan->slot_floats * slots + plan->work_floats) * sizeof(float));
  for (int a = 0; a < acts; ++a) plan->act.push_back(plan->arena.as() + plan->slot_floats * slot_of[a]);
  plan->work = plan->arena.as() + plan->slot_floats * slots;
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
  check(cudaMemcpyAsync(plan.act[0], pinned_in_.data(), bytes, cudaMemcpyHostToDevice, stream_),
        "cudaMemcpyAsync (input)");
}

Tensor CudaNet::download(Plan& plan, int index) {
  Tensor out(plan.shapes[index]);
  const std::size_t bytes = out.numel() * sizeof(float);
  pinned_out_.reserve(bytes);
  check(cudaMemcpyAsync(pinned_out_.data(), plan.act[index], bytes, cudaMemcpyDeviceToHost, stream_),
        "cudaMemcpyAsync (output)");
  check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
  std::memcpy(out.data(), pinned_out_.data(), bytes);
  return out;
}

void CudaNet::run_linear(Plan& plan, int i) {
  // Row-major y [N,O] = x [N,I] . W [O,I]^T, as column-major y^T = W^T' . x^T.
  const Layer& l = graph_.layers[i];
  const Shape& out = plan.shapes[i + 1];
  const int n = out.n, o = out.c, in = l.weight->c();
  const float one = 1.f, zero = 0.f;
  check(cublasSgemm(blas_, CUBLAS_OP_T, CUBLAS_OP_N, o, n, in, &one, weights_[i].as(), in,
                    plan.act[l.src], in, &zero, plan.act[i + 1], o),
        "cublasSgemm (linear)");
  if (biases_[i].as()) add_bias(plan.act[i + 1], biases_[i].as(), n, o, stream_);
}

void CudaNet::run_clean_layer(Plan& plan, int i) {
  const Layer& l = graph_.layers[i];
  const Shape& in = plan.shapes[l.src];
  const Shape& out = plan.shapes[i + 1];
  switch (l.op) {
    case Layer::Op::conv: {
      const ConvContext ctx{blas_, stream_, plan.work, plan.work_floats};
      const DeviceConv conv{l.conv, weights_[i].as(), biases_[i].as()};
      conv_dense(ctx, conv, planes(in, out), plan.act[l.src], plan.act[i + 1],
                 l.residual >= 0 ? plan.act[l.residual] : nullptr, nullptr, l.relu);
      break;
    }
    case Layer::Op::maxpool:
      maxpool(plan.act[i + 1], plan.act[l.src], in.c, planes(in, out), l.conv.kernel, l.conv.stride,
              l.conv.padding, nullptr, stream_);
      break;
    case Layer::Op::global_avgpool:
      avgpool(plan.act[i + 1], plan.act[l.src], nullptr, in.n, in.c, in.h * in.w, stream_);
      break;
    case Layer::Op::linear: run_linear(plan, i); break;
  }
}

Tensor CudaNet::run(const Tensor& x, int index) {
  if (index < 0 || index > graph_.output()) throw std::out_of_range("cuda: no activation " + std::to_string(index));
  Plan& plan = plan_for(x.shape());
  upload(plan, x);
  for (int i = 0; i < index; ++i) run_clean_layer(plan, i);
  return download(plan, index);
}

}  // namespace lmask::backends::cuda
