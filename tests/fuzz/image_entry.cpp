// image_entry.cpp — fuzzing the PNG/JPEG decoders and the preprocessing
// that follows them (fuzz_entries.h).
#include "fuzz_entries.h"
#include "lmask/error.h"
#include "lmask/image.h"
#include "lmask/mask_builders.h"

namespace lmask::fuzz {

namespace {
// Far below kMaxImagePixels: a 100-megapixel picture per input would make
// the fuzzer crawl; the limit's check itself is the same code either way.
constexpr long long kFuzzMaxPixels = 1 << 20;
}  // namespace

void image_entry(const std::uint8_t* data, std::size_t size) {
  try {
    const ImageU8 img = decode_image(std::vector<std::uint8_t>(data, data + size), "fuzz-image", kFuzzMaxPixels);
    // Sizes from the input's length: small, varied, never zero.
    const int resize = 1 + static_cast<int>(size % 61);
    const int crop = 1 + static_cast<int>((size / 61) % 67);
    const Tensor x = preprocess_01(img, resize, crop, "fuzz-image");
    const Mask m = mask_from_image(img, resize, crop, (size & 1) != 0, "fuzz-image");
    if (x.w() != crop || m.w() != crop) throw std::logic_error("image entry: wrong output size");
  } catch (const InputError&) {
  }
}

}  // namespace lmask::fuzz
