// literal_masked.h — layer masking exactly as the spec reads, over a Graph:
// the oracle of the op table (test_op_table.cpp), for tests only.
//
// Written from shared/spec/LAYER_MASKING.md and LAYER_MASKING_ZOO.md, not
// from src/: it calls none of the library's masked code (fill_reference,
// fill_frontier, conv2d_at, masked_avgpool, Mask::pooled, plan_masks,
// run_graph*), because that code holds the shortcuts under test: the fill
// run only on the band a kept output reads, only the outputs a reader keeps
// computed, dense execution above 90% visible. Here every rule is read
// literally: each conv's fill runs all k steps on every position, every
// output of every node is computed and then masked, each on the naive ops
// of reference_ops.h with double accumulation.
//
// Like reference_ops.h, it must stay naive: its worth is that it is
// obviously the spec. A faster oracle would share the bugs it is meant to
// find.
//
// Legend: (x, m) is a value [N,C,H,W] and its mask [N,1,H,W], 1 = visible.
#pragma once

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "lmask/graph.h"
#include "lmask/masked_ops.h"
#include "reference_ops.h"

namespace lmask::testing {

// A node's value and its mask, the mask kept as a plain 0/1 tensor.
struct LiteralAct {
  Tensor x;  // [N,C,H,W]
  Tensor m;  // [N,1,H,W]
};

// Deliberate mistakes, only for the test that shows the op table can fail.
struct LiteralSabotage {
  // A conv's output mask taken over windows placed with stride 1 (at
  // oy - p) instead of the conv's stride (at oy*s - p).
  bool conv_mask_stride_one = false;
};

// ---- building blocks -------------------------------------------------------

// x * m, m [N,1,H,W] broadcast over channels.
inline Tensor literal_times_mask(const Tensor& x, const Tensor& m) {
  Tensor y(x.shape());
  for (int n = 0; n < x.n(); ++n)
    for (int c = 0; c < x.c(); ++c)
      for (int h = 0; h < x.h(); ++h)
        for (int w = 0; w < x.w(); ++w) y.at(n, c, h, w) = x.at(n, c, h, w) * m.at(n, 0, h, w);
  return y;
}

// The mask of an op that ends it: all visible, [N,1,1,1].
inline Tensor literal_all_visible(int n) { return Tensor::filled({n, 1, 1, 1}, 1.f); }

// m' [N,1,OH,OW]: 1 iff the window of output (oy, ox) holds a visible input.
// The window's taps are at (oy*s - p + ky*d, ox*s - p + kx*d), ky, kx in
// [0, k); taps outside the image (padding, or past the input for a ceil-mode
// pool) never count.
inline Tensor literal_any_visible(const Tensor& m, int oh, int ow, int kernel, int stride, int padding,
                                  int dilation) {
  Tensor out({m.n(), 1, oh, ow});
  for (int n = 0; n < m.n(); ++n)
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox) {
        bool any = false;
        for (int ky = 0; ky < kernel; ++ky)
          for (int kx = 0; kx < kernel; ++kx) {
            const int iy = oy * stride - padding + ky * dilation, ix = ox * stride - padding + kx * dilation;
            if (iy < 0 || iy >= m.h() || ix < 0 || ix >= m.w()) continue;
            if (m.at(n, 0, iy, ix) != 0.f) any = true;
          }
        out.at(n, 0, oy, ox) = any ? 1.f : 0.f;
      }
  return out;
}

// The Conv2d rule's fill, as LAYER_MASKING.md writes it, on every position:
//   x <- x * m ; r <- m
//   repeat steps times:
//     num = box3(x) ; den = box3(r)          (3x3 sums, zero padding)
//     x <- x + (1 - r) * num / (den + 1e-5)
//     r <- min(r + den, 1)
// per channel with the one mask, in double; each step reads the state
// before it.
inline Tensor literal_fill(const Tensor& x_in, const Tensor& m, int steps) {
  const int N = x_in.n(), C = x_in.c(), H = x_in.h(), W = x_in.w();
  auto box3 = [&](const std::vector<double>& v, int y, int x) {
    double s = 0.0;
    for (int dy = -1; dy <= 1; ++dy)
      for (int dx = -1; dx <= 1; ++dx) {
        const int yy = y + dy, xx = x + dx;
        if (yy >= 0 && yy < H && xx >= 0 && xx < W) s += v[yy * W + xx];
      }
    return s;
  };
  Tensor out(x_in.shape());
  for (int n = 0; n < N; ++n) {
    std::vector<std::vector<double>> x(C, std::vector<double>(H * W));
    std::vector<double> r(H * W);
    for (int i = 0; i < H * W; ++i) r[i] = m.at(n, 0, i / W, i % W);
    for (int c = 0; c < C; ++c)
      for (int i = 0; i < H * W; ++i) x[c][i] = double(x_in.at(n, c, i / W, i % W)) * r[i];
    for (int step = 0; step < steps; ++step) {
      std::vector<double> den(H * W);
      for (int i = 0; i < H * W; ++i) den[i] = box3(r, i / W, i % W);
      for (int c = 0; c < C; ++c) {
        std::vector<double> next = x[c];
        for (int i = 0; i < H * W; ++i)
          next[i] = x[c][i] + (1.0 - r[i]) * box3(x[c], i / W, i % W) / (den[i] + 1e-5);
        x[c] = next;
      }
      for (int i = 0; i < H * W; ++i) r[i] = std::min(r[i] + den[i], 1.0);
    }
    for (int c = 0; c < C; ++c)
      for (int i = 0; i < H * W; ++i) out.at(n, c, i / W, i % W) = static_cast<float>(x[c][i]);
  }
  return out;
}

// ---- the rules, one per op --------------------------------------------------

// Conv2d, any groups, stride, padding, dilation, bias or none:
//   m' = any-visible over the conv window
//   neighbour_average: y = conv(fill_k(x, m), W, b)
//   none:              y = conv(x * m, W, b)
//   renorm:            y = conv(x * m, W) * float(1/c) + b,
//                      c = conv(m, ones(k x k)/(k*k); s, p, d) + 1e-8, padding removed
// then (y * m', m').
inline LiteralAct literal_conv(const Node& node, const LiteralAct& in, Fill fill, const LiteralSabotage& sabotage) {
  const ConvParams& p = node.conv;
  const Tensor x = literal_times_mask(in.x, in.m);
  Tensor y;
  if (fill == Fill::neighbour_average) {
    y = conv2d_naive(literal_fill(x, in.m, p.kernel), node.weight, node.bias, p);
  } else if (fill == Fill::none) {
    y = conv2d_naive(x, node.weight, node.bias, p);
  } else {
    y = conv2d_naive(x, node.weight, Tensor(), p);
    for (int n = 0; n < y.n(); ++n)
      for (int oy = 0; oy < y.h(); ++oy)
        for (int ox = 0; ox < y.w(); ++ox) {
          double c = 0.0;  // conv(m, ones/(k*k)): zero padding counts as removed
          for (int ky = 0; ky < p.kernel; ++ky)
            for (int kx = 0; kx < p.kernel; ++kx) {
              const int iy = oy * p.stride - p.padding + ky * p.dilation;
              const int ix = ox * p.stride - p.padding + kx * p.dilation;
              if (iy < 0 || iy >= in.m.h() || ix < 0 || ix >= in.m.w()) continue;
              c += in.m.at(n, 0, iy, ix) / double(p.kernel * p.kernel);
            }
          const float inv = static_cast<float>(1.0 / (c + 1e-8));  // the float32 reciprocal
          for (int o = 0; o < y.c(); ++o) {
            const double b = node.bias.empty() ? 0.0 : node.bias.at(0, o, 0, 0);
            y.at(n, o, oy, ox) = static_cast<float>(double(y.at(n, o, oy, ox)) * inv + b);
          }
        }
  }
  const int origin_stride = sabotage.conv_mask_stride_one ? 1 : p.stride;
  const Tensor m_out = literal_any_visible(in.m, y.h(), y.w(), p.kernel, origin_stride, p.padding, p.dilation);
  return {literal_times_mask(y, m_out), m_out};
}

// BatchNorm: BN(x * m) * m, with the node's own eps.
inline LiteralAct literal_batchnorm(const Node& node, const LiteralAct& in) {
  return {literal_times_mask(batchnorm_naive(literal_times_mask(in.x, in.m), node.bn), in.m), in.m};
}

// Activation: f(x * m) * m.
inline LiteralAct literal_activation(Activation a, const LiteralAct& in) {
  return {literal_times_mask(activate_naive(literal_times_mask(in.x, in.m), a), in.m), in.m};
}

// add: (x0 + x1) * (m0 * m1).
inline LiteralAct literal_add(const LiteralAct& a, const LiteralAct& b) {
  Tensor m(a.m.shape()), y(a.x.shape());
  for (std::size_t i = 0; i < m.numel(); ++i) m.data()[i] = a.m.data()[i] * b.m.data()[i];
  for (std::size_t i = 0; i < y.numel(); ++i)
    y.data()[i] = static_cast<float>(double(a.x.data()[i]) + b.x.data()[i]);
  return {literal_times_mask(y, m), m};
}

// vismean over the positions [y0,y1) x [x0,x1) of image n, channel c:
// mean(x * m) / (mean(m) + 1e-8).
inline float literal_visible_mean(const LiteralAct& in, int n, int c, int y0, int y1, int x0, int x1) {
  double sum = 0.0, visible = 0.0;
  for (int iy = y0; iy < y1; ++iy)
    for (int ix = x0; ix < x1; ++ix) {
      sum += double(in.x.at(n, c, iy, ix)) * in.m.at(n, 0, iy, ix);
      visible += in.m.at(n, 0, iy, ix);
    }
  const double count = double(y1 - y0) * (x1 - x0);
  return static_cast<float>((sum / count) / (visible / count + 1e-8));
}

// adaptive_avgpool to S x S: per bin [floor(i*H/S), ceil((i+1)*H/S)) (and
// the same along W), vismean over the bin; the output mask says whether
// the bin holds a visible input.
inline LiteralAct literal_adaptive_avgpool(const LiteralAct& in, int size) {
  auto start = [](int i, int len, int s) { return int(std::floor(double(i) * len / s)); };
  auto end = [](int i, int len, int s) { return int(std::ceil(double(i + 1) * len / s)); };
  Tensor y({in.x.n(), in.x.c(), size, size}), m({in.x.n(), 1, size, size});
  for (int n = 0; n < in.x.n(); ++n)
    for (int oy = 0; oy < size; ++oy)
      for (int ox = 0; ox < size; ++ox) {
        const int y0 = start(oy, in.x.h(), size), y1 = end(oy, in.x.h(), size);
        const int x0 = start(ox, in.x.w(), size), x1 = end(ox, in.x.w(), size);
        bool any = false;
        for (int iy = y0; iy < y1; ++iy)
          for (int ix = x0; ix < x1; ++ix) any = any || in.m.at(n, 0, iy, ix) != 0.f;
        m.at(n, 0, oy, ox) = any ? 1.f : 0.f;
        for (int c = 0; c < in.x.c(); ++c) y.at(n, c, oy, ox) = literal_visible_mean(in, n, c, y0, y1, x0, x1);
      }
  return {y, m};
}

// concat: mask by strict majority, sum_i m_i > n/2; value cat(x_i) * m'.
inline LiteralAct literal_concat(const std::vector<const LiteralAct*>& in) {
  const Tensor& m0 = in[0]->m;
  Tensor m(m0.shape());
  for (std::size_t i = 0; i < m.numel(); ++i) {
    int visible = 0;
    for (const LiteralAct* a : in) visible += a->m.data()[i] != 0.f ? 1 : 0;
    m.data()[i] = 2 * visible > static_cast<int>(in.size()) ? 1.f : 0.f;
  }
  std::vector<Tensor> xs;
  for (const LiteralAct* a : in) xs.push_back(a->x);
  return {literal_times_mask(concat_channels_naive(xs), m), m};
}

// ---- the forwards -------------------------------------------------------------

// The layer-masked forward of (x * m, m) to g.output, every node by the
// literal rule of its op. A conv node with a fused epilogue
// (Node::has_residual, Node::fused_activation) is the conv rule, then the
// add's, then the activation's.
inline LiteralAct literal_masked_forward(const Graph& g, const Tensor& x, const Tensor& m, Fill fill,
                                         const LiteralSabotage& sabotage = {}) {
  std::vector<LiteralAct> v(g.nodes.size());
  for (int id = 0; id <= g.output; ++id) {
    const Node& node = g.nodes[id];
    auto in = [&](int k) -> const LiteralAct& { return v[node.inputs[k]]; };
    switch (node.op) {
      case Op::input: v[id] = {literal_times_mask(x, m), m}; break;
      case Op::conv2d: {
        LiteralAct y = literal_conv(node, in(0), fill, sabotage);
        if (node.has_residual()) y = literal_add(y, in(1));
        if (node.fused_activation) y = literal_activation(node.activation, y);
        v[id] = y;
        break;
      }
      case Op::batchnorm: v[id] = literal_batchnorm(node, in(0)); break;
      case Op::activation: v[id] = literal_activation(node.activation, in(0)); break;
      case Op::maxpool:  // maxpool(x * m) * m', removed inputs hold 0 and take part
      case Op::avgpool: {  // avgpool(x * m) * m', PyTorch's divisor
        const PoolParams& p = node.pool;
        const Tensor xm = literal_times_mask(in(0).x, in(0).m);
        const Tensor y = node.op == Op::maxpool ? maxpool_naive(xm, p) : avgpool2d_naive(xm, p);
        const Tensor m_out = literal_any_visible(in(0).m, y.h(), y.w(), p.kernel, p.stride, p.padding, 1);
        v[id] = {literal_times_mask(y, m_out), m_out};
        break;
      }
      case Op::global_avgpool: {  // vismean(x, m), or allmean: mean_hw(x * m); the mask ends
        const LiteralAct& a = in(0);
        Tensor y({a.x.n(), a.x.c(), 1, 1});
        for (int n = 0; n < a.x.n(); ++n)
          for (int c = 0; c < a.x.c(); ++c) {
            if (!node.allmean) {
              y.at(n, c, 0, 0) = literal_visible_mean(a, n, c, 0, a.x.h(), 0, a.x.w());
              continue;
            }
            double sum = 0.0;
            for (int i = 0; i < a.x.h(); ++i)
              for (int j = 0; j < a.x.w(); ++j) sum += double(a.x.at(n, c, i, j)) * a.m.at(n, 0, i, j);
            y.at(n, c, 0, 0) = float(sum / (double(a.x.h()) * a.x.w()));
          }
        v[id] = {y, literal_all_visible(a.x.n())};
        break;
      }
      case Op::fill_step: {  // fill_1(x, m) under the neighbour-average fill; m' = dil(m; 3, 1, 1)
        const LiteralAct& a = in(0);
        const Tensor m_out = literal_any_visible(a.m, a.x.h(), a.x.w(), 3, 1, 1, 1);
        const Tensor y = fill == Fill::neighbour_average ? literal_fill(a.x, a.m, 1) : a.x;
        v[id] = {literal_times_mask(y, m_out), m_out};
        break;
      }
      case Op::adaptive_avgpool: v[id] = literal_adaptive_avgpool(in(0), node.out_size); break;
      case Op::add: v[id] = literal_add(in(0), in(1)); break;
      case Op::concat: {
        std::vector<const LiteralAct*> parts;
        for (int i : node.inputs) parts.push_back(&v[i]);
        v[id] = literal_concat(parts);
        break;
      }
      case Op::channel_scale: v[id] = {channel_scale_naive(in(0).x, in(1).x), in(0).m}; break;
      case Op::linear:  // unchanged; the mask ends
        v[id] = {linear_naive(in(0).x, node.weight, node.bias), literal_all_visible(in(0).x.n())};
        break;
      case Op::flatten: {
        const Tensor& a = in(0).x;
        v[id] = {a.clone().reshaped({a.n(), a.c() * a.h() * a.w(), 1, 1}), literal_all_visible(a.n())};
        break;
      }
      case Op::identity: v[id] = in(0); break;
    }
  }
  return v[g.output];
}

// The clean forward to g.output: the plain naive ops, no mask.
inline Tensor literal_clean_forward(const Graph& g, const Tensor& x) {
  std::vector<Tensor> v(g.nodes.size());
  for (int id = 0; id <= g.output; ++id) {
    const Node& node = g.nodes[id];
    auto in = [&](int k) -> const Tensor& { return v[node.inputs[k]]; };
    switch (node.op) {
      case Op::input: v[id] = x; break;
      case Op::conv2d: {
        Tensor y = conv2d_naive(in(0), node.weight, node.bias, node.conv);
        if (node.has_residual())
          for (std::size_t i = 0; i < y.numel(); ++i)
            y.data()[i] = static_cast<float>(double(y.data()[i]) + in(1).data()[i]);
        if (node.fused_activation) y = activate_naive(y, node.activation);
        v[id] = y;
        break;
      }
      case Op::batchnorm: v[id] = batchnorm_naive(in(0), node.bn); break;
      case Op::activation: v[id] = activate_naive(in(0), node.activation); break;
      case Op::maxpool: v[id] = maxpool_naive(in(0), node.pool); break;
      case Op::avgpool: v[id] = avgpool2d_naive(in(0), node.pool); break;
      case Op::global_avgpool: v[id] = avgpool_naive(in(0), 1, 1); break;
      case Op::adaptive_avgpool: v[id] = avgpool_naive(in(0), node.out_size, node.out_size); break;
      case Op::add: {
        Tensor y(in(0).shape());
        for (std::size_t i = 0; i < y.numel(); ++i)
          y.data()[i] = static_cast<float>(double(in(0).data()[i]) + in(1).data()[i]);
        v[id] = y;
        break;
      }
      case Op::concat: {
        std::vector<Tensor> parts;
        for (int i : node.inputs) parts.push_back(v[i]);
        v[id] = concat_channels_naive(parts);
        break;
      }
      case Op::channel_scale: v[id] = channel_scale_naive(in(0), in(1)); break;
      case Op::linear: v[id] = linear_naive(in(0), node.weight, node.bias); break;
      case Op::flatten: {
        const Tensor& a = in(0);
        v[id] = a.clone().reshaped({a.n(), a.c() * a.h() * a.w(), 1, 1});
        break;
      }
      case Op::identity:
      case Op::fill_step: v[id] = in(0); break;
    }
  }
  return v[g.output];
}

}  // namespace lmask::testing
