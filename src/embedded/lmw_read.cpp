// lmw_read.cpp — parses and decodes a .lmw buffer (docs/lmw-format.md).
//
// The buffer may come from anywhere, so every number in it is checked
// against the buffer's size before it is used as an offset or a count, with
// arithmetic that cannot overflow; the checksum is verified before the
// table is trusted. Fields are read byte by byte (little-endian), so the
// buffer needs no alignment and the host's byte order does not matter.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <set>

#include "lmask/error.h"
#include "lmask/lmw.h"

namespace lmask {

namespace {

std::uint32_t u32_at(const std::uint8_t* p) {
  return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
}
std::uint64_t u64_at(const std::uint8_t* p) { return u32_at(p) | std::uint64_t(u32_at(p + 4)) << 32; }
float f32_at(const std::uint8_t* p) {
  const std::uint32_t bits = u32_at(p);
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", static_cast<unsigned>(v));
  return buf;
}

// A NUL-terminated printable name in a fixed field; throws if it has no NUL.
std::string fixed_string(const std::uint8_t* p, std::size_t field, const std::string& source, const std::string& what) {
  const void* nul = std::memchr(p, 0, field);
  if (!nul) throw InputError(source, what + " is not NUL-terminated within its " + std::to_string(field) + " bytes");
  std::string s(reinterpret_cast<const char*>(p), static_cast<const std::uint8_t*>(nul) - p);
  for (unsigned char c : s)
    if (c < 0x20 || c > 0x7E) throw InputError(source, what + " holds a non-printable byte");
  return s;
}

// Bytes a tensor of `numel` values takes as dtype; dims0 = its first dimension.
std::size_t payload_bytes(LmwDType t, std::size_t numel, std::size_t dims0) {
  switch (t) {
    case LmwDType::f32: return numel * 4;
    case LmwDType::f16: return numel * 2;
    case LmwDType::int8: return dims0 * 4 + numel;
  }
  return 0;
}

}  // namespace

const char* lmw_dtype_name(LmwDType t) {
  switch (t) {
    case LmwDType::f32: return "f32";
    case LmwDType::f16: return "f16";
    case LmwDType::int8: return "int8";
  }
  return "?";
}

LmwFile parse_lmw(const std::uint8_t* data, std::size_t size, const std::string& source) {
  if (!data || size < kLmwHeaderBytes)
    throw InputError(source, "truncated: " + std::to_string(size) + " bytes, an .lmw header alone is " +
                                 std::to_string(kLmwHeaderBytes));
  if (std::memcmp(data, kLmwMagic, sizeof kLmwMagic) != 0)
    throw InputError(source, "not an lmask .lmw weight file (bad magic; convert with `lmask export`)");
  const std::uint32_t version = u32_at(data + 8);
  if (version != kLmwVersion)
    throw InputError(source, "format version " + std::to_string(version) + ", this lmask reads version " +
                                 std::to_string(kLmwVersion) + " (re-export it with this lmask)");
  const std::uint64_t file_size = u64_at(data + 16);
  if (file_size > size)
    throw InputError(source, "truncated: the header says " + std::to_string(file_size) + " bytes, there are " +
                                 std::to_string(size));
  if (file_size < size)
    throw InputError(source, std::to_string(size - file_size) + " bytes of trailing data after the " +
                                 std::to_string(file_size) + " the header declares");
  const std::uint32_t stored_crc = u32_at(data + 12);
  const std::uint32_t crc = crc32(data + 16, size - 16);
  if (crc != stored_crc)
    throw InputError(source, "checksum mismatch (stored " + hex32(stored_crc) + ", computed " + hex32(crc) +
                                 "): the file is corrupt");

  // Regions: header, table, class names, payload, in this order, in bounds.
  const std::uint64_t count = u32_at(data + 24);
  const std::uint64_t table_offset = u64_at(data + 96);
  const std::uint64_t names_offset = u64_at(data + 104);
  const std::uint64_t names_size = u32_at(data + 112);
  const std::uint64_t payload_offset = u64_at(data + 120);
  if (count > kLmwMaxTensors)
    throw InputError(source, std::to_string(count) + " tensors declared, more than the limit of " +
                                 std::to_string(kLmwMaxTensors));
  if (table_offset != kLmwHeaderBytes)
    throw InputError(source, "tensor table at offset " + std::to_string(table_offset) + ", expected " +
                                 std::to_string(kLmwHeaderBytes));
  const std::uint64_t table_end = table_offset + count * kLmwEntryBytes;
  if (payload_offset % kLmwAlign != 0 || payload_offset > size || table_end > payload_offset ||
      names_offset < table_end || names_offset > payload_offset || names_size > payload_offset - names_offset)
    throw InputError(source, "table, class names and payload regions out of range (table " +
                                 std::to_string(table_offset) + ".." + std::to_string(table_end) + ", names at " +
                                 std::to_string(names_offset) + "+" + std::to_string(names_size) + ", payload at " +
                                 std::to_string(payload_offset) + ", file " + std::to_string(size) + " bytes)");

  LmwFile file;
  file.num_classes = u32_at(data + 28);
  file.input_size = u32_at(data + 32);
  file.resize_size = u32_at(data + 36);
  for (int i = 0; i < 3; ++i) file.mean[i] = f32_at(data + 40 + 4 * i), file.std[i] = f32_at(data + 52 + 4 * i);
  file.arch = fixed_string(data + 64, 32, source, "the architecture name");
  for (std::uint64_t i = names_offset, start = names_offset; i < names_offset + names_size; ++i)
    if (data[i] == '\n') {
      file.class_names.emplace_back(reinterpret_cast<const char*>(data + start), i - start);
      start = i + 1;
    }

  std::set<std::string> seen;
  std::uint64_t previous_end = payload_offset;
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint8_t* e = data + table_offset + i * kLmwEntryBytes;
    LmwTensor t;
    t.name = fixed_string(e, kLmwNameBytes, source, "tensor " + std::to_string(i) + "'s name");
    const std::string what = "tensor '" + t.name + "'";
    if (t.name.empty() || !seen.insert(t.name).second)
      throw InputError(source, what + ": empty or repeated name");
    const std::uint32_t dtype = u32_at(e + 64), rank = u32_at(e + 68);
    if (dtype > static_cast<std::uint32_t>(LmwDType::int8))
      throw InputError(source, what + ": unknown dtype " + std::to_string(dtype) + " (0 f32, 1 f16, 2 int8)");
    t.dtype = static_cast<LmwDType>(dtype);
    if (rank < 1 || rank > 4) throw InputError(source, what + ": rank " + std::to_string(rank) + " (expected 1..4)");
    t.numel = 1;
    for (std::uint32_t d = 0; d < rank; ++d) {
      const std::size_t v = u32_at(e + 72 + 4 * d);
      if (v < 1 || v > kMaxWeightValues / t.numel)
        throw InputError(source, what + ": dimension " + std::to_string(d) + " is " + std::to_string(v) +
                                     " (each at least 1, at most " + std::to_string(kMaxWeightValues) + " values in all)");
      t.dims.push_back(v);
      t.numel *= v;
    }
    const std::uint64_t offset = u64_at(e + 88), bytes = u64_at(e + 96);
    const std::size_t expected = payload_bytes(t.dtype, t.numel, t.dims[0]);
    if (bytes != expected)
      throw InputError(source, what + ": " + std::to_string(bytes) + " payload bytes, expected " +
                                   std::to_string(expected) + " for " + lmw_dtype_name(t.dtype));
    if (offset % kLmwAlign != 0 || offset < previous_end || offset > size || bytes > size - offset)
      throw InputError(source, what + ": payload at " + std::to_string(offset) + "+" + std::to_string(bytes) +
                                   " is out of range (payload " + std::to_string(previous_end) + ".." +
                                   std::to_string(size) + ", offsets 64-aligned and in table order)");
    previous_end = offset + bytes;
    t.data = data + offset;
    t.bytes = bytes;
    file.tensors.push_back(std::move(t));
  }
  return file;
}

void decode_lmw_tensor(const LmwTensor& t, float* out) {
  switch (t.dtype) {
    case LmwDType::f32:
      for (std::size_t i = 0; i < t.numel; ++i) out[i] = f32_at(t.data + 4 * i);
      break;
    case LmwDType::f16:
      for (std::size_t i = 0; i < t.numel; ++i)
        out[i] = half_to_float(static_cast<std::uint16_t>(t.data[2 * i] | t.data[2 * i + 1] << 8));
      break;
    case LmwDType::int8: {
      const std::size_t rows = t.dims[0], per_row = t.numel / rows;
      const std::uint8_t* q = t.data + 4 * rows;
      for (std::size_t r = 0; r < rows; ++r) {
        const float scale = f32_at(t.data + 4 * r);
        for (std::size_t j = 0; j < per_row; ++j)
          out[r * per_row + j] = static_cast<float>(static_cast<std::int8_t>(q[r * per_row + j])) * scale;
      }
      break;
    }
  }
}

Weights lmw_weights(const LmwFile& file, const std::string& source) {
  Weights w;
  w.path = source;
  w.arch = file.arch;
  auto whole = [&](std::uint32_t v, std::uint32_t lo, std::uint32_t hi, const char* name) {
    if (v < lo || v > hi)
      throw InputError(source, std::string(name) + " is " + std::to_string(v) + "; expected " + std::to_string(lo) +
                                   ".." + std::to_string(hi));
    return static_cast<int>(v);
  };
  w.num_classes = whole(file.num_classes, 1, kMaxClasses, "num_classes");
  w.input_size = whole(file.input_size, 1, kMaxInputSize, "input_size");
  w.resize_size = whole(file.resize_size, file.input_size, 2 * kMaxInputSize, "resize_size");
  for (int i = 0; i < 3; ++i) {
    if (!std::isfinite(file.mean[i]) || std::fabs(file.mean[i]) > 1e6f || !std::isfinite(file.std[i]) ||
        !(file.std[i] > 0.f) || file.std[i] > 1e6f)
      throw InputError(source, "mean/std must be finite numbers, std positive");
    w.mean[i] = file.mean[i], w.std[i] = file.std[i];
  }
  w.class_names = file.class_names;
  for (const LmwTensor& t : file.tensors) {
    Shape s;
    switch (t.dims.size()) {
      case 1: s = {1, int(t.dims[0]), 1, 1}; break;
      case 2: s = {int(t.dims[0]), int(t.dims[1]), 1, 1}; break;
      case 4: s = {int(t.dims[0]), int(t.dims[1]), int(t.dims[2]), int(t.dims[3])}; break;
      default: throw InputError(source, "tensor '" + t.name + "' has rank 3 (weights have rank 1, 2 or 4)");
    }
    Tensor values(s);
    decode_lmw_tensor(t, values.data());
    for (std::size_t i = 0; i < t.numel; ++i)
      if (!std::isfinite(values.data()[i])) throw InputError(source, "tensor '" + t.name + "' holds NaN or Inf");
    w.params.emplace(t.name, values);
    w.dims.emplace(t.name, t.dims);
  }
  if (w.params.empty()) throw InputError(source, "holds no tensors");
  return w;
}

}  // namespace lmask
