// image.h — 8-bit RGB pictures in and out, and torchvision-exact preprocessing.
//
// The network was trained on images preprocessed by torchvision with the PIL
// backend, and the golden logits were computed that way, so every step here
// reproduces Pillow 9.x / torchvision 0.14 byte for byte: decoding as
// `Image.open(p).convert("RGB")`, resizing with Pillow's fixed-point
// resampler, CenterCrop's rounding and ToTensor's division. The network is
// chaotic enough that "close" preprocessing is visibly not good enough.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lmask/tensor.h"

namespace lmask {

// An 8-bit RGB picture: [H, W, 3] row-major, channels interleaved.
struct ImageU8 {
  int width = 0, height = 0;
  std::vector<std::uint8_t> rgb;  // height * width * 3 bytes

  ImageU8() = default;
  ImageU8(int w, int h) : width(w), height(h), rgb(static_cast<std::size_t>(w) * h * 3) {}
  std::uint8_t* pixel(int x, int y) { return rgb.data() + (static_cast<std::size_t>(y) * width + x) * 3; }
  const std::uint8_t* pixel(int x, int y) const {
    return rgb.data() + (static_cast<std::size_t>(y) * width + x) * 3;
  }
};

// Larger images are refused from their header, before any pixel memory is
// allocated, so a hostile or mistaken file cannot exhaust memory.
constexpr long long kMaxImagePixels = 100'000'000;
// Image files are read whole before decoding; a larger one is refused
// while being read (a 100-megapixel PNG is typically well under this).
constexpr std::size_t kMaxImageFileBytes = std::size_t(1) << 30;

// Decodes a PNG or JPEG (chosen by the file's magic bytes, not its name) to RGB
// the way Pillow's `convert("RGB")` does: grey is replicated, alpha is dropped
// (not composited), palettes are expanded, 16-bit RGB keeps the high byte.
// Refused: 16-bit greyscale PNG (Pillow would clip it to 0..255, which is
// never what the picture meant) and CMYK/YCCK JPEG.
// Every failure throws InputError(path, problem); libpng/libjpeg never print.
ImageU8 read_image(const std::string& path);
// The same from bytes already in memory; `name` is the file named in
// messages. max_pixels lowers the limit (the fuzzers keep images small).
ImageU8 decode_image(const std::vector<std::uint8_t>& bytes, const std::string& name,
                     long long max_pixels = kMaxImagePixels);
// Whether the file starts with JPEG's signature (false when unreadable).
bool is_jpeg_file(const std::string& path);

// Pillow's Image.resize(size, BILINEAR) — antialiased when shrinking — and
// Image.resize(size, NEAREST), bit for bit. Sizes must be positive.
ImageU8 resize_bilinear_pil(const ImageU8& img, int out_w, int out_h);
ImageU8 resize_nearest_pil(const ImageU8& img, int out_w, int out_h);

// torchvision CenterCrop: offsets int(round((size - out) / 2.0)) with Python's
// round-half-even; a side shorter than the crop is zero-padded as torchvision does.
ImageU8 center_crop(const ImageU8& img, int out_w, int out_h);

// torchvision Resize(resize_short)'s output size for a width x height picture:
// the shorter side becomes resize_short, the longer int(resize_short*long/short).
// InputError(source, ...) for an empty picture or one whose resized version
// would exceed kMaxImagePixels (a sliver such as 1 x 10^7 pixels).
struct ResizedSize {
  int width, height;
};
ResizedSize resized_size(int width, int height, int resize_short, const std::string& source);

// torchvision Resize(resize_short) + CenterCrop(crop) + ToTensor().
// Returns [1, 3, crop, crop] with values v / 255 in [0, 1]. `source` (the
// picture's file) is what an InputError from resized_size names.
Tensor preprocess_01(const ImageU8& img, int resize_short, int crop, const std::string& source = "image");

// torchvision Normalize, in place on [N, 3, H, W]: (x - mean[c]) / std[c].
void normalize(Tensor& x, const std::vector<float>& mean, const std::vector<float>& std);

// Image `index` of x01 ([N, 3, H, W], or [N, 1, H, W] shown as grey) as bytes:
// clamped to [0, 1], times 255, rounded to nearest. For writing pictures.
ImageU8 tensor01_to_image(const Tensor& x01, int index);

// Writes an 8-bit RGB PNG atomically: "<path>.tmp-<pid>" is written, then
// renamed over `path`, so readers never see a half-written file.
// Failures throw InputError(path, problem).
void write_png(const std::string& path, const ImageU8& img);

}  // namespace lmask
