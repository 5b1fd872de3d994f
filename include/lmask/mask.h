// mask.h — a visibility mask, the companion of every masked activation.
//
// A Mask is a [N,1,H,W] tensor of 0/1 values: 1 = visible (kept), 0 = removed.
// It travels beside its activation through the network (see Act) and changes
// resolution with it: a conv or max-pool maps it through `pooled` (an output is
// visible iff its window holds a visible input; padding never counts), a
// stride through the same call with kernel 1.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lmask/ops.h"
#include "lmask/tensor.h"

namespace lmask {

class Mask {
 public:
  Mask() = default;
  explicit Mask(Tensor values);  // [N,1,H,W], values must be exactly 0 or 1
  static Mask visible(int n, int h, int w);  // all ones
  static Mask removed(int n, int h, int w);  // all zeros

  const Tensor& tensor() const { return t_; }
  Tensor& tensor() { return t_; }
  int n() const { return t_.n(); }
  int h() const { return t_.h(); }
  int w() const { return t_.w(); }
  bool empty() const { return t_.empty(); }
  const float* image(int i) const { return t_.image(i); }
  Mask batch(int first, int count) const { return Mask(t_.batch(first, count), Trusted{}); }

  // The output mask of a k x k window op (conv or max-pool) with stride s,
  // padding p and dilation d: max over the window, padding never wins.
  Mask pooled(int kernel, int stride, int padding, int dilation = 1) const;
  // The output mask of a pooling window with ceil_mode (ops.h): positions
  // past the input count as padding.
  Mask pooled(const PoolParams& p) const;
  // Elementwise product: visible where both are (the residual join).
  Mask operator*(const Mask& other) const;
  // x [N,C,H,W] *= mask, broadcast over channels.
  void apply(Tensor& x) const;

  std::size_t count_visible() const;
  std::size_t count_visible(int image) const;
  double visible_fraction() const;
  bool all_visible() const;

  // Flat indices n*H*W + y*W + x of the visible positions, in order.
  std::vector<int> visible_positions() const;

 private:
  struct Trusted {};
  Mask(Tensor values, Trusted) : t_(std::move(values)) {}
  Tensor t_;
};

// A masked activation: the value that flows between layers.
struct Act {
  Tensor x;  // [N,C,H,W]; removed positions hold 0 between layers
  Mask m;    // [N,1,H,W]
};

}  // namespace lmask
