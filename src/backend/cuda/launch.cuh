// launch.cuh — the launch shape every elementwise kernel of the CUDA backend
// uses: a 1-D grid-stride loop over `count` items (private to the .cu files).
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>

namespace lmask::backends::cuda {

constexpr int kThreads = 256;

// Enough blocks to cover `count` once, capped: the loops stride over the rest.
inline unsigned blocks_for(std::size_t count) {
  const std::size_t blocks = (count + kThreads - 1) / kThreads;
  return static_cast<unsigned>(std::max<std::size_t>(1, std::min<std::size_t>(blocks, 65535u * 32u)));
}

#define LMASK_GRID_STRIDE(i, count)                                                    \
  for (std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < (count); \
       i += std::size_t(gridDim.x) * blockDim.x)

}  // namespace lmask::backends::cuda
