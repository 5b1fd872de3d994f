// conv_cases.h — a conv's geometry as one line of a test table, what the
// tests print for it, and its ConvParams (test_masked_ops.cpp,
// test_backend_cuda.cpp).
#pragma once

#include <sstream>
#include <string>

#include "lmask/ops.h"

namespace lmask::testing {

struct ConvCase {
  int n, in, out, h, w, k, s, p, d, g;  // batch, channels, size, kernel, stride, padding, dilation, groups
};

inline std::string describe(const ConvCase& c) {
  std::ostringstream os;
  os << "conv n=" << c.n << " in=" << c.in << " out=" << c.out << " h=" << c.h << " w=" << c.w << " k=" << c.k
     << " s=" << c.s << " p=" << c.p << " d=" << c.d << " g=" << c.g;
  return os.str();
}

inline ConvParams params_of(const ConvCase& c) {
  ConvParams p;
  p.in_channels = c.in, p.out_channels = c.out, p.kernel = c.k, p.stride = c.s;
  p.padding = c.p, p.dilation = c.d, p.groups = c.g;
  return p;
}

}  // namespace lmask::testing
