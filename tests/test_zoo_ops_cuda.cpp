// test_zoo_ops_cuda.cpp — the ops the zoo CNNs add to ResNet's, on the CUDA
// backend (lmask_cuda_tests; skipped without a GPU, see test_main_cuda.cpp),
// as the blocks they come in: DenseNet's standalone BatchNorm, ReLU, concat
// of many inputs and 2x2 average pooling; SqueezeNet's Fire (fill_step,
// concat of two) after a ceil-mode max-pool and its allmean head;
// MobileNetV3's and EfficientNet's depthwise convs, every activation fused
// and standalone, squeeze-excitation (channel_scale) and the residual join;
// average pooling with ceil_mode and count_include_pad, adaptive pooling
// to S > 1. Each graph runs through make_backend("cuda", graph), so the
// backend fuses it as a model's, clean and layer-masked (every fill, both
// executions, masks from none to all visible), against the spec read
// literally (literal_masked.h), tolerance as the op table's: max|diff| <=
// 1e-4 * max(1, max|expected|). The whole models: test_golden_zoo_cuda.cpp.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "graph_builder.h"
#include "lmask/backend.h"
#include "literal_masked.h"
#include "reference_ops.h"

using namespace lmask;
using namespace lmask::testing;

namespace {

constexpr double kTolerance = 1e-4;
using A = Activation;
constexpr int x = 0;  // the input node

struct Block {
  std::string name;
  Graph graph;
  Shape input;
};

const char* fill_name(Fill f) {
  return f == Fill::neighbour_average ? "neighbour_average" : f == Fill::none ? "none" : "renorm";
}

void check_block(const Block& b, std::uint32_t seed) {
  INFO(b.name << " on input " << b.input.str());
  auto backend = make_backend("cuda", b.graph);
  const Tensor in = random_tensor(b.input, seed, -2.f, 2.f);
  {
    const double err = relative_error(backend->forward(in), literal_clean_forward(b.graph, in));
    INFO("clean: error " << err);
    CHECK(err <= kTolerance);
  }
  for (double density : {0.0, 0.3, 0.7, 1.0})
    for (Fill fill : {Fill::neighbour_average, Fill::none, Fill::renorm})
      for (Execution e : {Execution::active, Execution::dense}) {
        const Mask m = random_mask(b.input.n, b.input.h, b.input.w, density, seed + 1);
        const Tensor want = literal_masked_forward(b.graph, in, m.tensor(), fill).x;
        const double err = relative_error(backend->forward_masked(in, m, {fill, e}), want);
        INFO("density " << density << ", fill " << fill_name(fill) << ", "
                        << (e == Execution::active ? "active" : "dense") << ": error " << err);
        CHECK(err <= kTolerance);
      }
}

// DenseNet: a dense block of two layers (BN, ReLU, 1x1 conv with its ReLU
// fused, 3x3 conv; each layer reads the concat of all so far), the
// transition (BN, ReLU, 1x1 conv, 2x2/2 average pool on an odd
// size), norm5, ReLU and the allmean head.
Block densenet_block() {
  GraphBuilder b({2, 6, 11, 9}, 100);
  std::vector<int> list{x};
  for (int layer = 0; layer < 2; ++layer) {
    const int in = list.size() == 1 ? list[0] : b.op(Op::concat, list);
    const int y = b.activation(b.conv(b.activation(b.batchnorm(in, 1e-5f), A::relu), 8, 1), A::relu);
    list.push_back(b.conv(y, 4, 3, 1, 1, 1, 1, false));
  }
  const int block = b.op(Op::concat, list);  // three inputs: the strict majority
  const int t = b.pool(Op::avgpool, b.conv(b.activation(b.batchnorm(block, 1e-5f), A::relu), 7, 1), 2, 2, 0);
  const int pooled = b.op(Op::global_avgpool, {b.activation(b.batchnorm(t, 1e-5f), A::relu)});
  b.allmean(pooled);
  return {"DenseNet block, transition and head", b.graph(), b.input()};
}

// Concat of four (the majority needs three) and of three whose masks differ
// (3x3, 1x1 and dilated 3x3 convs).
Block concat_block() {
  GraphBuilder b({2, 5, 9, 10}, 200);
  const int c3 = b.conv(x, 4, 3, 1, 1), c1 = b.conv(x, 3, 1), cd = b.conv(x, 2, 3, 1, 2, 2);
  const int three = b.op(Op::concat, {c3, c1, cd});
  const int four = b.op(Op::concat, {x, c3, c1, cd});
  b.op(Op::concat, {three, four});
  return {"concat of three and of four", b.graph(), b.input()};
}

// SqueezeNet: stem conv (stride 2, no padding) + ReLU, ceil-mode max-pool
// whose last window hangs over, a Fire (squeeze, expand3x3, fill_step then
// expand1x1, concat), the classifier conv + ReLU, allmean, flatten.
Block squeezenet_block() {
  GraphBuilder b({2, 3, 21, 18}, 300);
  const int stem = b.pool(Op::maxpool, b.activation(b.conv(x, 8, 3, 2), A::relu), 3, 2, 0, true);
  const int s = b.activation(b.conv(stem, 4, 1), A::relu);
  const int e3 = b.activation(b.conv(s, 6, 3, 1, 1), A::relu);
  const int e1 = b.activation(b.conv(b.op(Op::fill_step, {s}), 6, 1), A::relu);
  const int fire = b.op(Op::concat, {e1, e3});
  const int pooled = b.op(Op::global_avgpool, {b.activation(b.conv(fire, 10, 1), A::relu)});
  b.allmean(pooled);
  b.op(Op::flatten, {pooled});
  return {"SqueezeNet stem, Fire and head", b.graph(), b.input()};
}

// An inverted residual as MobileNetV3 and EfficientNet have it: expand 1x1
// + f, depthwise k x k + f, squeeze-excitation (vismean, 1x1 + inner,
// 1x1 + gate, channel_scale), project 1x1, the residual add when shapes
// allow; then a depthwise conv with channel multiplier 2 and a grouped
// (not depthwise) dilated conv.
Block inverted_residual(A f, A inner, A gate, int k, int stride, std::uint32_t seed) {
  GraphBuilder b({2, 6, 13, 11}, seed);
  const int e = b.activation(b.conv(x, 12, 1), f);
  const int d = b.activation(b.conv(e, 12, k, stride, k / 2, 1, 12), f);
  const int s = b.op(Op::global_avgpool, {d});
  const int gate_in = b.activation(b.conv(b.activation(b.conv(s, 4, 1), inner), 12, 1), gate);
  int t = b.conv(b.op(Op::channel_scale, {d, gate_in}), 6, 1);
  if (stride == 1) t = b.op(Op::add, {t, x});
  const int m2 = b.activation(b.conv(t, 12, 3, 1, 1, 1, 6), f);  // depthwise, two outputs per channel
  b.conv(m2, 8, 3, 1, 2, 2, 4);                                    // groups 4 of 3 channels, dilation 2
  return {std::string("inverted residual ") + activation_name(f) + "/" + activation_name(inner) + "/" +
              activation_name(gate) + " k=" + std::to_string(k) + " s=" + std::to_string(stride),
          b.graph(), b.input()};
}

// Every activation fused into a conv's epilogue (alone and after the
// residual add) and standalone after a max-pool: sigmoid and hardsigmoid
// do not keep 0, so the forward remasks after them.
Block activations(A f, std::uint32_t seed) {
  GraphBuilder b({2, 4, 9, 8}, seed);
  const int joined = b.activation(b.op(Op::add, {b.conv(x, 4, 3, 1, 1), x}), f);
  const int pooled = b.activation(b.pool(Op::maxpool, x, 3, 1, 1), f);
  const int fused = b.activation(b.conv(pooled, 5, 3, 2, 1), f);
  const int up = b.activation(b.conv(joined, 5, 3, 2, 1), f);
  b.op(Op::concat, {fused, up, b.conv(pooled, 3, 3, 2, 1)});
  return {std::string("activation ") + activation_name(f) + ", fused and standalone", b.graph(), b.input()};
}

// Average pooling as PyTorch's AvgPool2d (ceil_mode, count_include_pad)
// and adaptive pooling to S > 1, after a conv for an irregular mask.
Block avgpool(int k, int s, int p, bool ceil, bool count_include_pad, std::uint32_t seed) {
  GraphBuilder b({2, 3, 13, 10}, seed);
  b.pool(Op::avgpool, b.conv(x, 5, 3, 1, 1), k, s, p, ceil, count_include_pad);
  return {"avgpool k=" + std::to_string(k) + " s=" + std::to_string(s) + " p=" + std::to_string(p) +
              " ceil=" + std::to_string(ceil) + " count_include_pad=" + std::to_string(count_include_pad),
          b.graph(), b.input()};
}
Block adaptive(int size, std::uint32_t seed) {
  GraphBuilder b({2, 3, 13, 10}, seed);
  b.adaptive(b.conv(x, 5, 3, 1, 1), size);
  return {"adaptive_avgpool S=" + std::to_string(size), b.graph(), b.input()};
}

// MobileNetV3's classifier: pooled features, linear, standalone hardswish, linear.
Block classifier() {
  GraphBuilder b({2, 6, 7, 7}, 900);
  const int pooled = b.op(Op::global_avgpool, {b.conv(x, 8, 3, 1, 1)});
  b.linear(b.activation(b.linear(b.op(Op::flatten, {pooled}), 12), A::hardswish), 5);
  return {"classifier: linear, hardswish, linear", b.graph(), b.input()};
}

}  // namespace

TEST_CASE("cuda: DenseNet's blocks (batchnorm, relu, concat of many, 2x2 avgpool, allmean) against the literal rule") {
  check_block(densenet_block(), 1000);
  check_block(concat_block(), 1010);
}

TEST_CASE("cuda: SqueezeNet's stem and Fire (ceil-mode max-pool, fill_step, concat, allmean) against the literal rule") {
  check_block(squeezenet_block(), 1100);
}

TEST_CASE("cuda: inverted residuals (depthwise, grouped, squeeze-excitation, every activation) against the literal rule") {
  std::uint32_t seed = 1200;
  check_block(inverted_residual(A::hardswish, A::relu, A::hardsigmoid, 3, 1, 400), seed++);
  check_block(inverted_residual(A::hardswish, A::relu, A::hardsigmoid, 5, 2, 410), seed++);
  check_block(inverted_residual(A::silu, A::silu, A::sigmoid, 3, 1, 420), seed++);
  check_block(inverted_residual(A::relu6, A::relu, A::sigmoid, 5, 2, 430), seed++);
  for (A f : {A::relu, A::relu6, A::hardswish, A::hardsigmoid, A::silu, A::sigmoid})
    check_block(activations(f, 500 + 10 * static_cast<std::uint32_t>(f)), seed++);
  check_block(classifier(), seed++);
}

TEST_CASE("cuda: average pooling (ceil_mode, count_include_pad) and adaptive pooling to S > 1 against the literal rule") {
  std::uint32_t seed = 1300;
  check_block(avgpool(2, 2, 0, false, true, 600), seed++);  // DenseNet's transition on an odd size
  check_block(avgpool(2, 2, 0, true, true, 610), seed++);   // its last window hangs over
  for (bool ceil : {false, true})
    for (bool count_include_pad : {true, false}) check_block(avgpool(3, 2, 1, ceil, count_include_pad, 620), seed++);
  check_block(avgpool(3, 3, 0, true, false, 630), seed++);
  for (int size : {1, 2, 3, 4}) check_block(adaptive(size, 640 + size), seed++);
}
