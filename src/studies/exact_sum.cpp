// exact_sum.cpp — see lmask/exact_sum.h. The algorithm is Shewchuk's
// (1997) "adaptive precision floating-point arithmetic" as CPython's
// math.fsum implements it: each addition is split by two-sum into the
// rounded sum and its exact rounding error, so the parts always add up to
// the exact sum; reading rounds that exact sum once.
#include "lmask/exact_sum.h"

#include <cmath>
#include <utility>

namespace lmask {

ExactSum& ExactSum::operator+=(double x) {
  if (!std::isfinite(x)) {
    non_finite_ += x;
    return *this;
  }
  // Fold x into the parts from the smallest up; each non-zero rounding
  // error stays behind as a part, in increasing magnitude.
  std::size_t kept = 0;
  for (std::size_t j = 0; j < parts_.size(); ++j) {
    double y = parts_[j];
    if (std::fabs(x) < std::fabs(y)) std::swap(x, y);
    const double hi = x + y;
    const double lo = y - (hi - x);  // exact: hi + lo == x + y (two-sum, |x| >= |y|)
    if (lo != 0) parts_[kept++] = lo;
    x = hi;
  }
  parts_.resize(kept);
  if (!std::isfinite(x)) {
    non_finite_ += x;  // the exact sum overflowed a double
    return *this;
  }
  parts_.push_back(x);
  return *this;
}

ExactSum& ExactSum::operator+=(const ExactSum& other) {
  for (double p : other.parts_) *this += p;
  non_finite_ += other.non_finite_;
  return *this;
}

double ExactSum::value() const {
  if (non_finite_ != 0 || std::isnan(non_finite_)) return non_finite_;
  std::size_t n = parts_.size();
  if (n == 0) return 0.0;
  // From the largest part down, until the sum so far is inexact.
  double hi = parts_[--n], lo = 0;
  while (n > 0) {
    const double x = hi, y = parts_[--n];
    hi = x + y;
    lo = y - (hi - x);
    if (lo != 0) break;
  }
  // hi + lo rounded to even may be wrong when the parts below push a tie
  // (lo exactly half an ulp) one way: round away from hi in that case.
  if (n > 0 && ((lo < 0 && parts_[n - 1] < 0) || (lo > 0 && parts_[n - 1] > 0))) {
    const double y = lo * 2, x = hi + y;
    if (y == x - hi) hi = x;
  }
  return hi;
}

ExactSum ExactSum::from_parts(const std::vector<double>& parts, double non_finite) {
  ExactSum s;
  for (double p : parts) s += p;  // re-established in order, whatever was saved
  s.non_finite_ += non_finite;
  return s;
}

}  // namespace lmask
