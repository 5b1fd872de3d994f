// masked_rows.h — layer masking of a graph's bottleneck blocks on visible
// rows: only the positions a block keeps are stored, one row of channels
// each, so its pointwise convs are plain GEMMs on those rows (no gather, no
// scatter) and its 3x3 conv gathers whole channel rows.
//
// Same results as the graph's masked forward (graph_forward.h) under its
// active execution, for the two fills that execution offers, by the same
// argument (shared/spec/LAYER_MASKING.md): inside a bottleneck the residual
// join keeps m_out = the block input's mask subsampled by the stride, every
// conv after the first is computed only there, and each such output's 3x3
// window is centred on a visible input, so one fill step (in the band those
// windows read) gives the spec's values.
#pragma once

#include <memory>
#include <vector>

#include "lmask/gemm.h"
#include "lmask/mask.h"
#include "lmask/masked_ops.h"
#include "lmask/graph.h"

namespace lmask {

// Row buffers come from a pool kept per thread: a forward takes a dozen of
// up to tens of MB (batch 8), and fresh ones cost a page fault every 4 KiB.
// The deleter hands a buffer back to the pool of the thread that frees it.
struct RowBufferReturn {
  std::size_t capacity = 0;  // floats
  void operator()(float* p) const;
};
using RowBuffer = std::unique_ptr<float[], RowBufferReturn>;
RowBuffer row_buffer(std::size_t floats);  // contents undefined

// A masked activation as its visible positions only.
struct VisibleRows {
  int n = 0, h = 0, w = 0, channels = 0;
  std::vector<int> pos;  // flat n*h*w + y*w + x of each row, ascending
  RowBuffer x;           // [rows, channels]

  int rows() const { return static_cast<int>(pos.size()); }
  float* row(int r) { return x.get() + static_cast<std::size_t>(r) * channels; }
  const float* row(int r) const { return x.get() + static_cast<std::size_t>(r) * channels; }

  // The visible positions of a.m with a.x's values there.
  static VisibleRows from(const Act& a);
};

// A conv's weights (BatchNorm folded) as GEMM operands: for output channels
// [b*block, (b+1)*block), the matrix [K*K*I, block], row-major, rows in
// (ky, kx, i) order, at data + b*K*K*I*block; a last block past O is
// padding. With block == O this is the layout oneDNN calls hwio, otherwise
// Ohwi<block>o, what its AVX-512 direct convolutions hold (block 16 to 64),
// so a backend can hand over the weights it already has.
struct RowWeights {
  const float* data = nullptr;
  int block = 0;
};

// A bottleneck of a fused graph (graph_passes.h) the rows run: conv1 (1x1,
// ReLU) -> conv2 (3x3, padding 1, carrying the stride, ReLU) -> conv3 (1x1,
// + the identity, ReLU), no dilation or groups, the identity the block
// input (stride 1) or a 1x1 downsample of it with the same stride; each
// inner node read by the next alone.
struct RowsBlock {
  const Node *conv1, *conv2, *conv3, *downsample;  // downsample: nullptr when none
  int input, output;                               // node ids: the block's input and conv3
  int nodes[4];                                    // conv1, conv2, conv3, downsample (-1) ids
};

// The longest chain of such bottlenecks ending at node `output` (each
// block's input the previous one's conv3), first block first; empty when
// `output` ends none. The chain's first input is where the rows start.
std::vector<RowsBlock> bottleneck_chain(const Graph& fused, int output);

// The Bottleneck rules of the spec on rows: conv1 at every visible input,
// conv2 and conv3 (and the downsample) at the kept positions, the join.
// `weights` = conv1, conv2, conv3, downsample (unused without one). fill is
// Fill::neighbour_average or Fill::renorm.
VisibleRows masked_bottleneck_rows(const VisibleRows& in, const RowsBlock& block, const RowWeights weights[4],
                                   Fill fill, GemmFn gemm);

// AdaptiveAvgPool2d rule on rows: f [N,C,1,1] = mean_hw(x*m) / (mean_hw(m) + 1e-8).
Tensor masked_avgpool_rows(const VisibleRows& a);

}  // namespace lmask
