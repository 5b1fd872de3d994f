// mask_rules.h — how every op treats the mask: layer masking's rules in one
// place (shared/spec/LAYER_MASKING.md, and LAYER_MASKING_ZOO.md for the ops
// beyond ResNet). Host code and the CUDA kernels both include it, so every
// backend computes a rule with the same formula and the same constants.
//
// Notation: (x, m) is an activation [N,C,H,W] and its mask [N,1,H,W],
// 1 = visible; between ops removed positions of x hold 0. dil(m; window) is
// the max-pool of the mask: an output is visible iff its window holds a
// visible input (padding, and positions past the input, never count).
// vismean(x, m) = mean_hw(x * m) / (mean_hw(m) + 1e-8).
//
//   op                output mask            value
//   ----------------  ---------------------  -------------------------------------------------
//   conv2d            dil(m; k, s, p, d)     conv(fill_k(x, m)) + b, zeroed outside m'
//     renorm fill     dil(m; k, s, p, d)     conv(x) * (1/c) + b, c = conv(m, ones/k^2) + 1e-8
//   batchnorm         m                      BN(x * m) * m
//   activation        m                      f(x * m) * m
//   maxpool           dil(m; pool)           maxpool(x) * m' (removed inputs are 0 and count)
//   avgpool           dil(m; pool)           avgpool(x) * m' (visible sum over the plain divisor)
//   global_avgpool    ends: all visible      vismean(x, m); allmean: mean_hw(x * m)
//   adaptive_avgpool  a bin holds a visible  per bin, vismean over the bin
//   add               m0 * m1                (x0 + x1) * m'
//   concat            strict majority of m_i cat(x_i) * m'  (n = 2: m0 * m1)
//   channel_scale     m0                     x0 * x1 (x1 [N,C,1,1] carries no mask)
//   linear, flatten   ends: all visible      unchanged
//   identity          m                      x
//   fill_step         dil(m; 3, 1, 1)        fill_1(x, m): one step of the fill below
//
// fill_k, the Conv2d rule's fill: x <- x * m; r <- m; k times:
//   num = box3(x); den = box3(r); x <- x + (1 - r) * num / (den + 1e-5); r <- min(r + den, 1)
// with box3 the 3x3 sum, zero padding: every still-unknown position with a
// known neighbour takes the average of its known neighbours, then is known.
//
// Why a conv needs fewer steps: an output kept by m' reads inputs within
// (k-1)*d of a visible one, so min((k-1)*d, k) steps (fill_reach) give the
// same values there, and none for a 1x1 conv. When every computed output's
// window is centred on a visible input, (k/2)*d steps suffice.
//
// fill_step is the fill alone, for SqueezeNet's Fire (LAYER_MASKING_ZOO.md):
// its expand1x1 is a 1x1 conv whose output mask is the Fire's dilated one,
// with one fill step, i.e. fill_step then a plain 1x1 conv. fill_1 is 0
// outside dil(m; 3, 1, 1) by itself (no known neighbour, nothing to average).
//
// The rules compose: a conv with a fused activation (fuse_epilogues) is the
// conv rule then the activation rule; with a fused residual, the conv rule,
// then add, then the activation. A mask that "ends" becomes all visible, so
// what follows a global pool runs as in the clean network.
#pragma once

#include "lmask/host_device.h"

namespace lmask::rules {

// The spec's constants.
constexpr float kFillEps = 1e-5f;          // fill: num / (den + 1e-5)
constexpr float kRenormEps = 1e-8f;        // partial convolution: c + 1e-8
constexpr double kVisibleMeanEps = 1e-8;   // vismean: mean_hw(m) + 1e-8

// Not a rule but the one execution threshold every backend uses: an op whose
// computed outputs are more than this fraction of all computes all of them
// densely and zeroes the rest (a gather per output costs more than it saves).
// Chosen from `lmask bench` runs (README).
constexpr double kDenseAboveVisible = 0.9;

// The 3x3 sum around (y, x) of v [H,W], zero padding, rows then columns from
// -1 to 1: one order everywhere, so every fill sums the same values alike.
LMASK_HOST_DEVICE inline float box3_at(const float* v, int y, int x, int h, int w) {
  float s = 0.f;
  for (int dy = -1; dy <= 1; ++dy) {
    const int yy = y + dy;
    if (yy < 0 || yy >= h) continue;
    for (int dx = -1; dx <= 1; ++dx) {
      const int xx = x + dx;
      if (xx >= 0 && xx < w) s += v[yy * w + xx];
    }
  }
  return s;
}

// One fill step at an unknown position: the average of its known neighbours
// (`known_sum` of `known_count` of them; 0 when there are none).
LMASK_HOST_DEVICE inline float fill_value(float known_sum, float known_count) {
  return known_sum / (known_count + kFillEps);
}

// Fill steps that give a conv's kept outputs the rule's values: they read
// inputs up to (k-1)*d beyond a visible one, or (k/2)*d when every computed
// output's window is centred on a visible input; and never more than the
// rule's k steps, beyond which it leaves removed inputs at 0 (a dilated
// window reads that far).
LMASK_HOST_DEVICE inline int fill_reach(int kernel, int dilation, bool centred) {
  const int reads = (centred ? kernel / 2 : kernel - 1) * dilation;
  return reads < kernel ? reads : kernel;
}

// Partial convolution's factor 1/c for a k x k window holding `visible`
// visible inputs (padding counts as removed): the float32 reciprocal, as the
// authors multiply by it.
LMASK_HOST_DEVICE inline float renorm_inv_scale(float visible, int kernel) {
  return 1.f / (visible / float(kernel * kernel) + kRenormEps);
}

// vismean from a plane's sum of x * m and its count of visible positions.
LMASK_HOST_DEVICE inline double visible_mean(double masked_sum, double visible, double plane) {
  return masked_sum / plane / (visible / plane + kVisibleMeanEps);
}

// concat's mask: visible where a strict majority of the n inputs is.
LMASK_HOST_DEVICE inline float majority_visible(int visible_inputs, int n) {
  return 2 * visible_inputs > n ? 1.f : 0.f;
}

}  // namespace lmask::rules
