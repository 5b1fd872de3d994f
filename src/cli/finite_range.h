// finite_range.h — a CLI11 check for a number in [lo, hi] that is not NaN.
//
// CLI11's own Range tests `val < min || val > max`, and every comparison
// with NaN is false, so `--remove nan` would pass it and reach code that
// rounds the fraction to a count. Here NaN and infinities are refused.
#pragma once

#include <CLI/CLI.hpp>

#include <cmath>
#include <string>

namespace lmask::cli {

inline CLI::Validator FiniteRange(double lo, double hi) {
  return CLI::Validator(
      [lo, hi](std::string& input) -> std::string {
        double v = 0;
        if (!CLI::detail::lexical_cast(input, v) || !std::isfinite(v) || v < lo || v > hi)
          return "Value " + input + " not in range " + std::to_string(lo) + " to " + std::to_string(hi);
        return "";
      },
      "FLOAT in [" + std::to_string(lo) + " - " + std::to_string(hi) + "]");
}

}  // namespace lmask::cli
