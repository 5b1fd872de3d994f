// parse_number.h — numbers a user types (an option's value, or a part of one
// such as the R of colour:R,G,B), read strictly: the whole token, in
// decimal, finite, within [lo, hi].
//
// std::stoi/stof/strtod and CLI11's own conversions are lenient in ways that
// turn a typo into a different run: they take a prefix ("0.5abc" -> 0.5),
// skip leading blanks, read "010" as octal and "0x10" as hex, and saturate
// on overflow (2^64 -> 2^64-1) without a word. Here an integer is
// [-]digits and a real [-]digits[.digits][e[+-]digits] (std::from_chars),
// nothing before or after, and out of range is an error, never clamped.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>

#include "lmask/error.h"

namespace lmask {

// `text` as an integer in [lo, hi], or nothing when it is not exactly one.
template <class T>
std::optional<T> strict_integer(const std::string& text, T lo, T hi) {
  static_assert(std::is_integral_v<T>);
  T value{};
  const char* end = text.data() + text.size();
  const auto [stop, ec] = std::from_chars(text.data(), end, value, 10);
  if (text.empty() || ec != std::errc() || stop != end || value < lo || value > hi) return std::nullopt;
  return value;
}

// `text` as a finite real in [lo, hi], or nothing when it is not exactly one
// ("nan", "inf" and numbers beyond double's range are not).
inline std::optional<double> strict_real(const std::string& text, double lo, double hi) {
  double value = 0;
  const char* end = text.data() + text.size();
  const auto [stop, ec] = std::from_chars(text.data(), end, value, std::chars_format::general);
  if (text.empty() || ec != std::errc() || stop != end || !std::isfinite(value) || value < lo || value > hi)
    return std::nullopt;
  return value;
}

// What the two accept, for messages: "a whole number from 1 to 4096".
template <class T>
std::string expected_integer(T lo, T hi) {
  return "a whole number from " + std::to_string(lo) + " to " + std::to_string(hi);
}
inline std::string expected_real(double lo, double hi) {
  char text[64];
  std::snprintf(text, sizeof text, "a number from %g to %g", lo, hi);
  return text;
}

// The throwing forms, for parts of options parsed by hand: InputError naming
// `where` (the option) and the token.
template <class T>
T parse_integer(const std::string& where, const std::string& text, T lo, T hi) {
  if (const auto v = strict_integer(text, lo, hi)) return *v;
  throw InputError(where, "'" + text + "' is not " + expected_integer(lo, hi));
}

inline double parse_real(const std::string& where, const std::string& text, double lo, double hi) {
  if (const auto v = strict_real(text, lo, hi)) return *v;
  throw InputError(where, "'" + text + "' is not " + expected_real(lo, hi));
}

}  // namespace lmask
