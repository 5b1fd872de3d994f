// concat.cpp — concatenation along channels (DenseNet's dense blocks,
// SqueezeNet's fire modules): per image, each input's [C_i,H,W] block in turn.
#include <algorithm>
#include <stdexcept>
#include <string>
#include <tuple>

#include "lmask/ops.h"

namespace lmask {

namespace {

// The dimensions other than C in which `x` differs from `y`: "N", "H and W", ...
std::string differing(const Tensor& x, const Tensor& y) {
  std::string dims;
  for (auto [name, a, b] : {std::tuple{"N", x.n(), y.n()}, std::tuple{"H", x.h(), y.h()},
                            std::tuple{"W", x.w(), y.w()}})
    if (a != b) dims += (dims.empty() ? "" : " and ") + std::string(name);
  return dims;
}

}  // namespace

void concat_channels(Tensor& y, const std::vector<Tensor>& xs) {
  if (xs.empty()) throw std::invalid_argument("concat_channels: no inputs");
  int channels = 0;
  std::string sum;  // "3+4+2", for the message
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const Tensor& x = xs[i];
    if (x.n() != y.n() || x.h() != y.h() || x.w() != y.w())
      throw std::invalid_argument("concat_channels: input " + std::to_string(i) + " " +
                                  x.shape().str() + " differs from the output " +
                                  y.shape().str() + " in " + differing(x, y));
    channels += x.c();
    sum += (i ? "+" : "") + std::to_string(x.c());
  }
  if (channels != y.c())
    throw std::invalid_argument("concat_channels: the inputs hold " + sum + " = " +
                                std::to_string(channels) + " channels, the output " +
                                y.shape().str() + " has " + std::to_string(y.c()));
  for (int n = 0; n < y.n(); ++n) {
    float* out = y.image(n);
    for (const Tensor& x : xs) {
      const std::size_t count = x.shape().image_size();
      std::copy(x.image(n), x.image(n) + count, out);
      out += count;
    }
  }
}

}  // namespace lmask
