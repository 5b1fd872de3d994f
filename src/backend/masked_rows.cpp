// masked_rows.cpp — the bottleneck rules of layer masking on visible rows
// (masked_rows.h), and the bottlenecks of a graph they apply to. A block
// keeps m_out = its input mask subsampled by the stride; the rows of that
// set are the output rows:
//   t1 = relu(conv1(x))        at every input row (conv2 reads around them)
//   t2 = relu(conv2(fill(t1))) at the kept rows: a 3x3 window per row, read
//                              from t1's rows or from the filled band
//   y  = relu(conv3(t2) + identity) at the kept rows
#include "lmask/masked_rows.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <stdexcept>

#include "lmask/mask_rules.h"
namespace lmask {

namespace {

// Buffers kept for reuse, at most kPooled (about what one block holds at
// once); a larger set frees its smallest.
constexpr std::size_t kPooled = 8;
struct RowBufferPool {
  std::vector<std::pair<float*, std::size_t>> free;  // buffer, capacity
  ~RowBufferPool() {
    for (auto& [p, capacity] : free) delete[] p;
  }
};
thread_local RowBufferPool pool;

RowBuffer uninitialized(std::size_t count) { return row_buffer(std::max<std::size_t>(count, 1)); }

VisibleRows empty_like(int n, int h, int w, int channels, std::vector<int> pos) {
  VisibleRows r;
  r.n = n, r.h = h, r.w = w, r.channels = channels;
  r.pos = std::move(pos);
  r.x = uninitialized(r.pos.size() * static_cast<std::size_t>(channels));
  return r;
}

// out[rows, O] = in[rows, K*K*I] . W, then `epilogue(row, values)` on each
// output row. One GEMM per output-channel block of the weight layout.
template <typename Epilogue>
void rows_gemm(float* out, int out_channels, const float* in, int rows, int in_cols, const RowWeights& w,
               GemmFn gemm, Epilogue epilogue) {
  if (rows == 0) return;
  for (int b = 0; b * w.block < out_channels; ++b)  // the last block may be partly padding
    gemm(Transpose::no, Transpose::no, rows, std::min(w.block, out_channels - b * w.block), in_cols, 1.f, in,
         in_cols, w.data + static_cast<std::size_t>(b) * in_cols * w.block, w.block, 0.f, out + b * w.block,
         out_channels);
#pragma omp parallel for schedule(static)
  for (int r = 0; r < rows; ++r) epilogue(r, out + static_cast<std::size_t>(r) * out_channels);
}

void add_bias(float* v, const float* bias, int channels, bool relu) {
  for (int c = 0; c < channels; ++c) {
    const float s = v[c] + (bias ? bias[c] : 0.f);
    v[c] = relu && s < 0.f ? 0.f : s;
  }
}

// A pointwise conv (1x1, stride 1) on every row: the rows are its GEMM.
VisibleRows pointwise(const VisibleRows& in, const Node& layer, const RowWeights& w, GemmFn gemm, bool relu) {
  const int out_channels = layer.conv.out_channels;
  VisibleRows out = empty_like(in.n, in.h, in.w, out_channels, in.pos);
  const float* bias = layer.bias.empty() ? nullptr : layer.bias.data();
  rows_gemm(out.x.get(), out_channels, in.x.get(), in.rows(), in.channels, w, gemm,
            [&](int, float* v) { add_bias(v, bias, out_channels, relu); });
  return out;
}

// Where each position of a rows' grid lives: its row, kBand + band index for a
// filled position, kZero for one that reads as 0.
constexpr int kZero = -1;
constexpr int kBand = -2;  // band index i is stored as kBand - i
struct RowIndex {
  std::vector<int> at;  // per flat position
  explicit RowIndex(const VisibleRows& r) : at(static_cast<std::size_t>(r.n) * r.h * r.w, kZero) {
    for (int i = 0; i < r.rows(); ++i) at[r.pos[i]] = i;
  }
};

// The Conv2d rule's fill for the positions `kept` outputs' 3x3 windows read
// (stride s, padding 1): every such removed position gets the average of its
// visible 3x3 neighbours, the spec's first fill step, which is final there.
// Returns the band's values [band, C]; index.at marks their rows.
RowBuffer fill_band(const VisibleRows& in, RowIndex& index, const std::vector<int>& kept, int oh, int ow,
                    int stride) {
  const int plane = in.h * in.w;
  std::vector<int> band;
  for (int p : kept) {
    const int n = p / (oh * ow), oy = (p % (oh * ow)) / ow, ox = p % ow;
    for (int dy = -1; dy <= 1; ++dy)
      for (int dx = -1; dx <= 1; ++dx) {
        const int y = oy * stride + dy, x = ox * stride + dx;
        if (y < 0 || y >= in.h || x < 0 || x >= in.w) continue;
        int& slot = index.at[n * plane + y * in.w + x];
        if (slot != kZero) continue;
        slot = kBand - static_cast<int>(band.size());
        band.push_back(n * plane + y * in.w + x);
      }
  }
  RowBuffer values = uninitialized(band.size() * static_cast<std::size_t>(in.channels));
#pragma omp parallel for schedule(static)
  for (int b = 0; b < static_cast<int>(band.size()); ++b) {
    const int n = band[b] / plane, y = (band[b] % plane) / in.w, x = band[b] % in.w;
    float* v = values.get() + static_cast<std::size_t>(b) * in.channels;
    std::fill(v, v + in.channels, 0.f);
    float known = 0.f;
    for (int ny = std::max(0, y - 1); ny <= std::min(in.h - 1, y + 1); ++ny)
      for (int nx = std::max(0, x - 1); nx <= std::min(in.w - 1, x + 1); ++nx) {
        const int r = index.at[n * plane + ny * in.w + nx];
        if (r < 0) continue;  // removed (or in the band itself): not known yet
        const float* src = in.row(r);
        for (int c = 0; c < in.channels; ++c) v[c] += src[c];
        known += 1.f;
      }
    for (int c = 0; c < in.channels; ++c) v[c] = rules::fill_value(v[c], known);
  }
  return values;
}

// Rows per im2col chunk of a 3x3 conv: a GEMM this tall runs at full speed,
// and the buffer stays at 1024 * 9 * C floats (2.3 MB at 64 channels).
constexpr int kIm2colRows = 1024;

// The 3x3 conv (padding 1, stride s) at the kept positions: each row's im2col
// row is its nine neighbours' channel rows in (ky, kx) order.
VisibleRows conv3x3_at(const VisibleRows& in, const Node& layer, const RowWeights& w, std::vector<int> kept,
                       int oh, int ow, Fill fill, GemmFn gemm) {
  const int stride = layer.conv.stride, plane = in.h * in.w, c_in = in.channels;
  const int out_channels = layer.conv.out_channels, cols = 9 * c_in;
  RowIndex index(in);
  RowBuffer band;
  if (fill == Fill::neighbour_average) band = fill_band(in, index, kept, oh, ow, stride);

  VisibleRows out = empty_like(in.n, oh, ow, out_channels, std::move(kept));
  // In chunks of rows: the im2col rows are 9x wider than the input's.
  const int rows = out.rows(), chunk = std::min(rows, kIm2colRows);
  RowBuffer im2col = uninitialized(static_cast<std::size_t>(chunk) * cols);
  std::vector<float> inv_scale(rows, 1.f);  // renorm: 1 / (visible fraction of the window + 1e-8)
  for (int first = 0; first < rows; first += chunk) {
    const int count = std::min(chunk, rows - first);
#pragma omp parallel for schedule(static)
    for (int j = 0; j < count; ++j) {
      const int r = first + j, p = out.pos[r], n = p / (oh * ow), oy = (p % (oh * ow)) / ow, ox = p % ow;
      float* dst = im2col.get() + static_cast<std::size_t>(j) * cols;
      float visible = 0.f;
      for (int ky = 0; ky < 3; ++ky)
        for (int kx = 0; kx < 3; ++kx, dst += c_in) {
          const int y = oy * stride - 1 + ky, x = ox * stride - 1 + kx;
          const int at = y < 0 || y >= in.h || x < 0 || x >= in.w ? kZero : index.at[n * plane + y * in.w + x];
          if (at >= 0) {
            std::memcpy(dst, in.row(at), sizeof(float) * c_in);
            visible += 1.f;
          } else if (at <= kBand) {
            std::memcpy(dst, band.get() + static_cast<std::size_t>(kBand - at) * c_in, sizeof(float) * c_in);
          } else {
            std::fill(dst, dst + c_in, 0.f);
          }
        }
      if (fill == Fill::renorm) inv_scale[r] = rules::renorm_inv_scale(visible, 3);
    }
    const float* bias = layer.bias.empty() ? nullptr : layer.bias.data();
    rows_gemm(out.row(first), out_channels, im2col.get(), count, cols, w, gemm, [&](int j, float* v) {
      for (int c = 0; c < out_channels; ++c) {
        const float s = v[c] * inv_scale[first + j] + (bias ? bias[c] : 0.f);
        v[c] = s < 0.f ? 0.f : s;
      }
    });
  }
  return out;
}

bool is(const ConvParams& p, int kernel, int padding) {
  return p.kernel == kernel && p.padding == padding && p.dilation == 1 && p.groups == 1;
}

}  // namespace

RowBuffer row_buffer(std::size_t floats) {
  // The smallest free buffer that fits, else a new one.
  auto best = pool.free.end();
  for (auto it = pool.free.begin(); it != pool.free.end(); ++it)
    if (it->second >= floats && (best == pool.free.end() || it->second < best->second)) best = it;
  if (best == pool.free.end()) return RowBuffer(new float[floats], {floats});
  RowBuffer b(best->first, {best->second});
  pool.free.erase(best);
  return b;
}

void RowBufferReturn::operator()(float* p) const {
  if (!p) return;
  pool.free.emplace_back(p, capacity);
  if (pool.free.size() <= kPooled) return;
  auto smallest = std::min_element(pool.free.begin(), pool.free.end(),
                                   [](const auto& a, const auto& b) { return a.second < b.second; });
  delete[] smallest->first;
  pool.free.erase(smallest);
}

VisibleRows VisibleRows::from(const Act& a) {
  VisibleRows r = empty_like(a.x.n(), a.x.h(), a.x.w(), a.x.c(), a.m.visible_positions());
  const std::size_t plane = a.x.shape().plane_size();
#pragma omp parallel for schedule(static)
  for (int i = 0; i < r.rows(); ++i) {
    const int n = static_cast<int>(r.pos[i] / plane);
    const float* src = a.x.image(n) + r.pos[i] % plane;
    float* dst = r.row(i);
    for (int c = 0; c < r.channels; ++c) dst[c] = src[c * plane];
  }
  return r;
}

namespace {

// Node `id` of g as a conv of this form with a ReLU (or none) in its
// epilogue and `residual` inputs beyond its own, else nullptr.
const Node* conv_of(const Graph& g, int id, int kernel, int padding, bool relu, bool residual) {
  const Node& n = g.nodes[id];
  const bool activation_ok = n.fused_activation ? relu && n.activation == Activation::relu : !relu;
  if (n.op != Op::conv2d || !is(n.conv, kernel, padding) || !activation_ok || n.has_residual() != residual)
    return nullptr;
  return &n;
}

// The bottleneck whose last conv is node `last`, if it is one the rows run.
std::optional<RowsBlock> bottleneck_ending_at(const Graph& g, int last, const std::vector<std::vector<int>>& readers) {
  const Node* c3 = conv_of(g, last, 1, 0, true, true);
  if (!c3 || c3->conv.stride != 1) return std::nullopt;
  const int n2 = c3->inputs[0];
  const Node* c2 = conv_of(g, n2, 3, 1, true, false);
  if (!c2 || readers[n2].size() != 1) return std::nullopt;
  const int n1 = c2->inputs[0];
  const Node* c1 = conv_of(g, n1, 1, 0, true, false);
  if (!c1 || c1->conv.stride != 1 || readers[n1].size() != 1) return std::nullopt;
  RowsBlock b{c1, c2, c3, nullptr, c1->inputs[0], last, {n1, n2, last, -1}};
  const int r = c3->inputs[1];
  if (r != b.input) {  // a downsample of the block input, read by the join alone
    const Node* d = conv_of(g, r, 1, 0, false, false);
    if (!d || d->inputs[0] != b.input || d->conv.stride != c2->conv.stride || readers[r].size() != 1)
      return std::nullopt;
    b.downsample = d, b.nodes[3] = r;
  } else if (c2->conv.stride != 1) {
    return std::nullopt;
  }
  return b;
}

}  // namespace

std::vector<RowsBlock> bottleneck_chain(const Graph& fused, int output) {
  const std::vector<std::vector<int>> readers = consumers(fused);
  std::vector<RowsBlock> chain;
  for (int t = output; t > 0;) {
    const std::optional<RowsBlock> b = bottleneck_ending_at(fused, t, readers);
    if (!b) break;
    chain.insert(chain.begin(), *b);
    t = b->input;
  }
  return chain;
}

VisibleRows masked_bottleneck_rows(const VisibleRows& in, const RowsBlock& block, const RowWeights weights[4],
                                   Fill fill, GemmFn gemm) {
  const int stride = block.conv2->conv.stride;
  const int oh = (in.h - 1) / stride + 1, ow = (in.w - 1) / stride + 1;

  // The kept positions m_out: visible inputs on the stride grid. `source`
  // is each one's input row (the identity's, and the centre of its window).
  std::vector<int> kept, source;
  for (int r = 0; r < in.rows(); ++r) {
    const int n = in.pos[r] / (in.h * in.w), y = (in.pos[r] / in.w) % in.h, x = in.pos[r] % in.w;
    if (y % stride || x % stride) continue;
    kept.push_back(n * oh * ow + (y / stride) * ow + x / stride);
    source.push_back(r);
  }

  const VisibleRows t1 = pointwise(in, *block.conv1, weights[0], gemm, /*relu=*/true);
  VisibleRows t2 = conv3x3_at(t1, *block.conv2, weights[1], kept, oh, ow, fill, gemm);
  VisibleRows y = pointwise(t2, *block.conv3, weights[2], gemm, /*relu=*/false);

  // The identity at the kept rows: the input itself, or the downsample of
  // the input rows the stride keeps.
  VisibleRows identity;
  const VisibleRows* id = &in;
  if (block.downsample) {
    VisibleRows picked = empty_like(in.n, oh, ow, in.channels, kept);
#pragma omp parallel for schedule(static)
    for (int r = 0; r < picked.rows(); ++r)
      std::memcpy(picked.row(r), in.row(source[r]), sizeof(float) * in.channels);
    identity = pointwise(picked, *block.downsample, weights[3], gemm, /*relu=*/false);
    id = &identity;
  }
  // Bottleneck residual rule at m_out: relu(o + i).
  const std::size_t count = static_cast<std::size_t>(y.rows()) * y.channels;
  float* v = y.x.get();
  const float* i = id->x.get();
#pragma omp parallel for schedule(static)
  for (std::size_t k = 0; k < count; ++k) v[k] = std::max(v[k] + i[k], 0.f);
  return y;
}

Tensor masked_avgpool_rows(const VisibleRows& a) {
  Tensor f({a.n, a.channels, 1, 1});
  const double plane = double(a.h) * a.w;
  std::vector<double> sum(static_cast<std::size_t>(a.n) * a.channels, 0.0), visible(a.n, 0.0);
  for (int r = 0; r < a.rows(); ++r) {
    const int n = a.pos[r] / (a.h * a.w);
    const float* v = a.row(r);
    double* s = sum.data() + static_cast<std::size_t>(n) * a.channels;
    for (int c = 0; c < a.channels; ++c) s[c] += v[c];
    visible[n] += 1.0;
  }
  for (int n = 0; n < a.n; ++n)
    for (int c = 0; c < a.channels; ++c)
      f.image(n)[c] = static_cast<float>(rules::visible_mean(sum[static_cast<std::size_t>(n) * a.channels + c], visible[n], plane));
  return f;
}

}  // namespace lmask
