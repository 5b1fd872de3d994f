// lmw_numbers.cpp — the number formats the .lmw reader and writer share:
// CRC-32 and IEEE half precision. Our own code, no zlib or compiler
// extensions, so the embedded build links nothing.
#include <cstring>

#include "lmask/lmw.h"

namespace lmask {

std::uint32_t crc32(const std::uint8_t* data, std::size_t size, std::uint32_t crc) {
  // Byte-wise with a 256-entry table of the reflected polynomial 0xEDB88320.
  static const auto table = [] {
    struct Table { std::uint32_t v[256]; } t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t.v[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (std::size_t i = 0; i < size; ++i) crc = table.v[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

std::uint16_t float_to_half(float f) {
  std::uint32_t x;
  std::memcpy(&x, &f, sizeof x);
  const std::uint32_t sign = (x >> 16) & 0x8000u;
  std::uint32_t mant = x & 0x7FFFFFu;
  const int exp = static_cast<int>((x >> 23) & 0xFF);
  if (exp == 0xFF) return static_cast<std::uint16_t>(sign | 0x7C00u | (mant ? 0x200u : 0u));  // Inf, NaN
  const int e = exp - 127 + 15;  // the half's biased exponent
  if (e >= 0x1F) return static_cast<std::uint16_t>(sign | 0x7C00u);  // too large: Inf
  if (e <= 0) {
    // A half subnormal: m * 2^-24 with m = (1.mant) * 2^(e + 10) rounded.
    if (e < -10) return static_cast<std::uint16_t>(sign);
    mant |= 0x800000u;
    const int shift = 14 - e;
    std::uint32_t m = mant >> shift;
    const std::uint32_t rest = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rest > half || (rest == half && (m & 1))) ++m;
    return static_cast<std::uint16_t>(sign | m);
  }
  std::uint32_t h = sign | (static_cast<std::uint32_t>(e) << 10) | (mant >> 13);
  const std::uint32_t rest = mant & 0x1FFFu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1))) ++h;  // a carry may round up to Inf: correct
  return static_cast<std::uint16_t>(h);
}

float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  int exp = (h >> 10) & 0x1F;
  std::uint32_t mant = h & 0x3FFu, x;
  if (exp == 0x1F) {
    x = sign | 0x7F800000u | (mant << 13);
  } else if (exp != 0) {
    x = sign | (static_cast<std::uint32_t>(exp - 15 + 127) << 23) | (mant << 13);
  } else if (mant == 0) {
    x = sign;
  } else {  // subnormal: shift until the leading 1 is the implicit bit
    exp = 1;
    while (!(mant & 0x400u)) mant <<= 1, --exp;
    x = sign | (static_cast<std::uint32_t>(exp - 15 + 127) << 23) | ((mant & 0x3FFu) << 13);
  }
  float f;
  std::memcpy(&f, &x, sizeof f);
  return f;
}

}  // namespace lmask
