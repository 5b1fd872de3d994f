// lmw.h — the flat weight format of the embedded build (.lmw), read straight
// from a memory buffer: an mmap'ed file on Linux, a const array in flash on
// a microcontroller. The byte layout is specified in docs/lmw-format.md.
//
// Reading is two steps: parse_lmw checks the structure (magic, version,
// size, CRC32, table, every offset and size against the buffer) without
// copying a payload byte; lmw_weights decodes the tensors into the Weights
// that Model::from_weights takes (the embedded build: ResNet::load), the
// same model the HDF5 loader gives (Model::load reads either). Both
// throw InputError naming the source and the problem, and never read
// outside [data, data + size).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "lmask/weights.h"

namespace lmask {

constexpr char kLmwMagic[8] = {'L', 'M', 'A', 'S', 'K', 'L', 'M', 'W'};
constexpr std::uint32_t kLmwVersion = 1;
constexpr std::size_t kLmwHeaderBytes = 128;
constexpr std::size_t kLmwEntryBytes = 128;
constexpr std::size_t kLmwAlign = 64;          // every tensor's offset
constexpr std::size_t kLmwMaxTensors = 1 << 16;
constexpr std::size_t kLmwNameBytes = 64;      // NUL-padded; names up to 63 bytes

enum class LmwDType : std::uint32_t {
  f32 = 0,   // IEEE float32
  f16 = 1,   // IEEE float16
  int8 = 2,  // per output channel: float32 scale[dims[0]], then int8 q[numel]; value = q * scale
};
const char* lmw_dtype_name(LmwDType t);

struct LmwTensor {
  std::string name;
  LmwDType dtype = LmwDType::f32;
  std::vector<std::size_t> dims;   // 1 to 4 of them, each >= 1
  std::size_t numel = 0;
  const std::uint8_t* data = nullptr;  // inside the parsed buffer
  std::size_t bytes = 0;
};

// The file's structure; tensors point into the buffer, which must outlive it.
struct LmwFile {
  std::string arch;
  std::uint32_t num_classes = 0, input_size = 0, resize_size = 0;
  float mean[3] = {}, std[3] = {};
  std::vector<std::string> class_names;
  std::vector<LmwTensor> tensors;
};

LmwFile parse_lmw(const std::uint8_t* data, std::size_t size, const std::string& source);

// float32 values of one parsed tensor: numel floats into out.
void decode_lmw_tensor(const LmwTensor& t, float* out);

// The Weights of a parsed file: attributes checked as load_weights checks
// them, values finite, every tensor float32 in memory.
Weights lmw_weights(const LmwFile& file, const std::string& source);
inline Weights read_lmw_weights(const std::uint8_t* data, std::size_t size, const std::string& source) {
  return lmw_weights(parse_lmw(data, size, source), source);
}

// The .lmw bytes of `w` with conv and fc weights (rank > 1) stored as
// `dtype`; BatchNorm parameters and biases always stay float32.
std::string write_lmw(const Weights& w, LmwDType dtype);

// CRC-32 (IEEE 802.3, as zlib's crc32) of size bytes, continuing from crc.
std::uint32_t crc32(const std::uint8_t* data, std::size_t size, std::uint32_t crc = 0);

// IEEE half precision, round to nearest even.
std::uint16_t float_to_half(float f);
float half_to_float(std::uint16_t h);

}  // namespace lmask
