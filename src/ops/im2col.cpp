// im2col.cpp — unfolds conv windows into GEMM columns; the one place where
// convolution padding is decided.
#include "lmask/ops.h"

namespace lmask {

// cols [(C/g)*K*K, OH*OW]: row (c, ky, kx), column (oy, ox) holds
// image[c0 + c][oy*s - p + ky*d][ox*s - p + kx*d], or 0 outside the image.
void im2col(float* cols, const float* image, int height, int width, int c0,
            const ConvParams& p) {
  const int oh = p.out_size(height), ow = p.out_size(width);
  const int channels = p.in_channels / p.groups, k = p.kernel;
  const std::size_t plane = static_cast<std::size_t>(height) * width;
#pragma omp parallel for collapse(3) schedule(static)
  for (int c = 0; c < channels; ++c)
    for (int ky = 0; ky < k; ++ky)
      for (int kx = 0; kx < k; ++kx) {
        const float* src = image + (c0 + c) * plane;
        float* row = cols + ((static_cast<std::size_t>(c) * k + ky) * k + kx) * oh * ow;
        for (int oy = 0; oy < oh; ++oy) {
          const int iy = oy * p.stride - p.padding + ky * p.dilation;
          float* out = row + static_cast<std::size_t>(oy) * ow;
          if (iy < 0 || iy >= height) {
            for (int ox = 0; ox < ow; ++ox) out[ox] = 0.f;
            continue;
          }
          const float* in_row = src + static_cast<std::size_t>(iy) * width;
          const int x0 = -p.padding + kx * p.dilation;
          for (int ox = 0; ox < ow; ++ox) {
            const int ix = x0 + ox * p.stride;
            out[ox] = (ix >= 0 && ix < width) ? in_row[ix] : 0.f;
          }
        }
      }
}

}  // namespace lmask
