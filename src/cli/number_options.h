// number_options.h — CLI11 transforms for numeric options: every numeric
// option of every subcommand takes one of these, so each is read strictly
// (lmask/parse_number.h: the whole token, decimal, finite, in range).
//
// CLI11 runs these on the text before converting it with its own lenient
// conversion (strtoull base 0: "010" is octal, 2^64 saturates). So they
// parse the text strictly and then rewrite it to a form CLI11 can only read
// one way: plain decimal for integers, an exact hex float for reals. Add
// them with ->transform(): ->check() would hand them a copy to rewrite.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdio>
#include <limits>
#include <string>

#include "lmask/parse_number.h"

namespace lmask::cli {

template <class T>
CLI::Validator Integer(T lo, T hi) {
  return CLI::Validator(
      [lo, hi](std::string& input) -> std::string {
        const auto v = strict_integer<T>(input, lo, hi);
        if (!v) return "'" + input + "' is not " + expected_integer(lo, hi);
        input = std::to_string(*v);
        return "";
      },
      "INT in [" + std::to_string(lo) + ".." + std::to_string(hi) + "]");
}

// Every value of the unsigned type T (seeds, counts where 0 means all).
template <class T>
CLI::Validator Unsigned() {
  return Integer<T>(0, std::numeric_limits<T>::max());
}

// "FLOAT in [0..1]", the check's name in --help.
inline std::string real_range_name(double lo, double hi) {
  char name[64];
  std::snprintf(name, sizeof name, "FLOAT in [%g..%g]", lo, hi);
  return name;
}

inline CLI::Validator Real(double lo, double hi) {
  return CLI::Validator(
      [lo, hi](std::string& input) -> std::string {
        const auto v = strict_real(input, lo, hi);
        if (!v) return "'" + input + "' is not " + expected_real(lo, hi);
        char exact[64];
        std::snprintf(exact, sizeof exact, "%a", *v);
        input = exact;
        return "";
      },
      real_range_name(lo, hi));
}

}  // namespace lmask::cli
