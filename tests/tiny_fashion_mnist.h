// tiny_fashion_mnist.h — idx files written by tests: the byte layout of the
// MNIST idx format, gzip output, and a two-image Fashion-MNIST test split
// that open_dataset("fmnist:test:DIR") reads like the real one.
#pragma once

#include <doctest/doctest.h>
#include <zlib.h>

#include <cstdint>
#include <string>
#include <vector>

#include "temp_dir.h"

namespace lmask::testing {

// An idx file's bytes: magic (0, 0, type, rank), big-endian dims, the values.
inline std::vector<std::uint8_t> idx_bytes(const std::vector<std::uint32_t>& dims,
                                           const std::vector<std::uint8_t>& values, std::uint8_t type = 0x08) {
  std::vector<std::uint8_t> out = {0, 0, type, static_cast<std::uint8_t>(dims.size())};
  for (std::uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(d >> shift));
  out.insert(out.end(), values.begin(), values.end());
  return out;
}

inline void write_gzip(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) == int(bytes.size()));
  gzclose(f);
}

// Two 28x28 "garments": a bright square on a dark background (25/255, just
// under the 0.1 foreground threshold), labels 3 and 9.
inline void write_tiny_fashion_mnist(const TempDir& dir) {
  std::vector<std::uint8_t> pixels(2 * 28 * 28, 25);
  for (int y = 10; y < 18; ++y)
    for (int x = 6; x < 20; ++x) pixels[y * 28 + x] = 200, pixels[784 + x * 28 + y] = 26;
  write_gzip(dir.file("t10k-images-idx3-ubyte.gz"), idx_bytes({2, 28, 28}, pixels));
  write_gzip(dir.file("t10k-labels-idx1-ubyte.gz"), idx_bytes({2}, {3, 9}));
}

// Five 28x28 "garments", each a bright bar at its own height, labels 0..4
// (the study resume and shard tests' split).
inline void write_five_bar_images(const TempDir& dir) {
  constexpr int images = 5;
  std::vector<std::uint8_t> pixels(images * 28 * 28, 0);
  for (int i = 0; i < images; ++i)
    for (int y = 4 + 3 * i; y < 12 + 3 * i; ++y)
      for (int x = 5; x < 23; ++x) pixels[i * 784 + y * 28 + x] = static_cast<std::uint8_t>(120 + 25 * i);
  write_gzip(dir.file("t10k-images-idx3-ubyte.gz"), idx_bytes({images, 28, 28}, pixels));
  write_gzip(dir.file("t10k-labels-idx1-ubyte.gz"), idx_bytes({images}, {0, 1, 2, 3, 4}));
}

}  // namespace lmask::testing
