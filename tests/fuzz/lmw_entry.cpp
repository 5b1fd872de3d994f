// lmw_entry.cpp — fuzzing the .lmw reader (lmw.h) on the fuzzer's bytes.
//
// First byte even: the rest is the buffer as it is (magic, version, size and
// CRC checks). Odd: the rest with its CRC-32 recomputed after the fuzzer's
// changes, so mutations reach the table, the offsets and the values behind
// the checksum. Then, on what parses, the decode and Model::from_weights. The
// buffer is an exact-size heap copy, so ASan catches any read past it.
#include <vector>

#include "fuzz_entries.h"
#include "lmask/error.h"
#include "lmask/lmw.h"
#include "lmask/model.h"

namespace lmask::fuzz {

void lmw_entry(const std::uint8_t* data, std::size_t size) {
  Bytes in(data, size);
  const bool reseal = in.u8() & 1;
  std::vector<std::uint8_t> file(in.rest(), in.rest() + in.left());
  if (reseal && file.size() >= 16) {
    const std::uint32_t crc = crc32(file.data() + 16, file.size() - 16);
    for (int i = 0; i < 4; ++i) file[12 + i] = static_cast<std::uint8_t>(crc >> (8 * i));
  }
  try {
    (void)Model::from_weights(read_lmw_weights(file.data(), file.size(), "fuzz.lmw"));
  } catch (const InputError&) {
  }
}

}  // namespace lmask::fuzz
