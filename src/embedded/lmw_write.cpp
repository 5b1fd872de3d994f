// lmw_write.cpp — writes Weights as a .lmw buffer (docs/lmw-format.md):
// header, tensor table in name order, class names, then each tensor's
// payload at the next 64-byte boundary, the CRC-32 filled in last.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "lmask/lmw.h"

namespace lmask {

namespace {

std::size_t align_up(std::size_t v) { return (v + kLmwAlign - 1) / kLmwAlign * kLmwAlign; }

void put_u32(std::string& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<char>(v >> (8 * i) & 0xFF);
}
void put_u64(std::string& b, std::size_t at, std::uint64_t v) {
  put_u32(b, at, static_cast<std::uint32_t>(v));
  put_u32(b, at + 4, static_cast<std::uint32_t>(v >> 32));
}
void put_f32(std::string& b, std::size_t at, float f) {
  std::uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  put_u32(b, at, bits);
}

// Per output channel (row): scale = max |w| / 127, q = round(w / scale).
void put_int8(std::string& b, std::size_t at, const float* v, std::size_t rows, std::size_t per_row) {
  for (std::size_t r = 0; r < rows; ++r) {
    const float* row = v + r * per_row;
    float max_abs = 0.f;
    for (std::size_t j = 0; j < per_row; ++j) max_abs = std::max(max_abs, std::fabs(row[j]));
    const float scale = max_abs / 127.f;
    put_f32(b, at + 4 * r, scale);
    for (std::size_t j = 0; j < per_row; ++j) {
      const long q = scale > 0.f ? std::lround(row[j] / scale) : 0;
      b[at + 4 * rows + r * per_row + j] = static_cast<char>(static_cast<std::int8_t>(std::clamp(q, -127L, 127L)));
    }
  }
}

}  // namespace

std::string write_lmw(const Weights& w, LmwDType dtype) {
  if (w.arch.size() >= 32) throw std::invalid_argument("lmw: architecture name longer than 31 bytes");
  std::string names;
  for (const std::string& n : w.class_names) {
    if (n.find('\n') != std::string::npos) throw std::invalid_argument("lmw: a class name holds a newline");
    names += n + "\n";
  }
  const std::size_t count = w.params.size();
  const std::size_t table_end = kLmwHeaderBytes + count * kLmwEntryBytes;
  std::size_t offset = align_up(table_end + names.size());
  const std::size_t payload_offset = offset;

  // Table entries first (their offsets fix the file size), payload after.
  struct Planned { const std::string* name; const Tensor* values; const std::vector<std::size_t>* dims; LmwDType dtype; std::size_t offset, bytes; };
  std::vector<Planned> planned;
  for (const auto& [name, values] : w.params) {
    if (name.empty() || name.size() >= kLmwNameBytes) throw std::invalid_argument("lmw: tensor name '" + name + "' is empty or too long");
    const std::vector<std::size_t>& dims = w.dims.at(name);
    const LmwDType t = dims.size() > 1 ? dtype : LmwDType::f32;
    const std::size_t numel = values.numel();
    const std::size_t bytes = t == LmwDType::f32 ? numel * 4 : t == LmwDType::f16 ? numel * 2 : dims[0] * 4 + numel;
    planned.push_back({&name, &values, &dims, t, offset, bytes});
    offset = align_up(offset + bytes);
  }
  const std::size_t file_size = planned.empty() ? payload_offset : planned.back().offset + planned.back().bytes;

  std::string b(file_size, '\0');
  std::memcpy(&b[0], kLmwMagic, sizeof kLmwMagic);
  put_u32(b, 8, kLmwVersion);
  put_u64(b, 16, file_size);
  put_u32(b, 24, static_cast<std::uint32_t>(count));
  put_u32(b, 28, static_cast<std::uint32_t>(w.num_classes));
  put_u32(b, 32, static_cast<std::uint32_t>(w.input_size));
  put_u32(b, 36, static_cast<std::uint32_t>(w.resize_size));
  for (int i = 0; i < 3; ++i) put_f32(b, 40 + 4 * i, w.mean.at(i)), put_f32(b, 52 + 4 * i, w.std.at(i));
  std::memcpy(&b[64], w.arch.data(), w.arch.size());
  put_u64(b, 96, kLmwHeaderBytes);
  put_u64(b, 104, table_end);
  put_u32(b, 112, static_cast<std::uint32_t>(names.size()));
  put_u64(b, 120, payload_offset);
  std::memcpy(&b[table_end], names.data(), names.size());

  for (std::size_t i = 0; i < planned.size(); ++i) {
    const Planned& p = planned[i];
    const std::size_t e = kLmwHeaderBytes + i * kLmwEntryBytes;
    std::memcpy(&b[e], p.name->data(), p.name->size());
    put_u32(b, e + 64, static_cast<std::uint32_t>(p.dtype));
    put_u32(b, e + 68, static_cast<std::uint32_t>(p.dims->size()));
    for (std::size_t d = 0; d < p.dims->size(); ++d) put_u32(b, e + 72 + 4 * d, static_cast<std::uint32_t>((*p.dims)[d]));
    put_u64(b, e + 88, p.offset);
    put_u64(b, e + 96, p.bytes);
    const float* v = p.values->data();
    const std::size_t numel = p.values->numel();
    switch (p.dtype) {
      case LmwDType::f32:
        for (std::size_t j = 0; j < numel; ++j) put_f32(b, p.offset + 4 * j, v[j]);
        break;
      case LmwDType::f16:
        for (std::size_t j = 0; j < numel; ++j) {
          const std::uint16_t h = float_to_half(v[j]);
          b[p.offset + 2 * j] = static_cast<char>(h & 0xFF);
          b[p.offset + 2 * j + 1] = static_cast<char>(h >> 8);
        }
        break;
      case LmwDType::int8:
        put_int8(b, p.offset, v, (*p.dims)[0], numel / (*p.dims)[0]);
        break;
    }
  }
  put_u32(b, 12, crc32(reinterpret_cast<const std::uint8_t*>(b.data()) + 16, b.size() - 16));
  return b;
}

}  // namespace lmask
