// pool_params.cpp — the pooling output size, PyTorch's rule in floor and
// ceil mode (PoolParams, ops.h). Here in core, not with the pooling ops,
// because a Mask's pooled() needs it too and core sits below ops.
#include <stdexcept>
#include <string>

#include "lmask/ops.h"

namespace lmask {

namespace {

// Names the window in the message, built only when refusing it.
[[noreturn]] void refuse(const PoolParams& p, const std::string& why) {
  throw std::invalid_argument("pooling (kernel " + std::to_string(p.kernel) + ", stride " +
                              std::to_string(p.stride) + ", padding " +
                              std::to_string(p.padding) + "): " + why);
}

}  // namespace

int PoolParams::out_size(int in) const {
  // PyTorch's pooling_output_shape (aten/src/ATen/native/Pool.h) and the
  // checks of its pool2d_shape_check, for a square window, no dilation.
  if (kernel < 1 || stride < 1) refuse(*this, "kernel and stride must be at least 1");
  if (padding < 0 || padding > kernel / 2) refuse(*this, "padding must be between 0 and kernel/2");
  const int out = out_size_or_zero(in);
  if (out < 1) refuse(*this, "an input of size " + std::to_string(in) + " has no output");
  return out;
}

int PoolParams::out_size_or_zero(int in) const {
  if (kernel < 1 || stride < 1 || padding < 0 || padding > kernel / 2) return 0;
  // Rounded down, or up in ceil mode; a negative span holds no window.
  const int span = in + 2 * padding - kernel + (ceil_mode ? stride - 1 : 0);
  int out = in < 1 || span < 0 ? 0 : span / stride + 1;
  // A last window that would start in the right padding is dropped.
  if (ceil_mode && out > 0 && (out - 1) * stride >= in + padding) --out;
  return out;
}

}  // namespace lmask
