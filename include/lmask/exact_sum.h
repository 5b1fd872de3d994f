// exact_sum.h — a sum of doubles whose value does not depend on the order
// of the additions: it keeps the exact sum (as a few non-overlapping
// doubles, Shewchuk's expansion, as Python's math.fsum does) and rounds it
// once, correctly, when read. That is what lets the shards of a study,
// computed on other machines and added up in any grouping, give the
// single-process run's numbers bit for bit. Not a fast accumulator: a few
// additions per value, meant for per-image statistics, not inner loops.
#pragma once

#include <vector>

namespace lmask {

class ExactSum {
 public:
  ExactSum() = default;
  ExactSum(double first) { *this += first; }  // NOLINT: a sum of one value

  ExactSum& operator+=(double x);
  ExactSum& operator+=(const ExactSum& other);

  // The exact sum rounded to the nearest double (ties to even). Inf or NaN
  // once any was added, or once the exact sum overflowed.
  double value() const;
  operator double() const { return value(); }  // NOLINT: reads as the sum it holds

  // What a checkpoint saves; from_parts(parts(), non_finite()) is the same sum.
  const std::vector<double>& parts() const { return parts_; }
  double non_finite() const { return non_finite_; }
  static ExactSum from_parts(const std::vector<double>& parts, double non_finite);

 private:
  std::vector<double> parts_;  // non-overlapping, increasing magnitude; their exact sum is the sum
  double non_finite_ = 0;      // the inf and NaN added (and any overflow); 0 when none
};

}  // namespace lmask
