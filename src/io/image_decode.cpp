// image_decode.cpp — PNG and JPEG files to RGB bytes, as Pillow's convert("RGB").
//
// libpng and libjpeg report errors by calling a function that must not return;
// their defaults print to stderr and (libjpeg) call exit(). We install
// handlers that record the message and longjmp back. A longjmp may not skip
// C++ destructors, so every setjmp lives in a small "phase" function whose own
// frame holds only plain C data; vectors and RAII owners live in the callers.
#include "lmask/image.h"

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>

#include <png.h>
// jpeglib.h needs size_t and FILE declared first (cstdio above).
#include <jpeglib.h>
#include <jerror.h>

#include "lmask/error.h"
#include "lmask/regular_file.h"

namespace lmask {

namespace {

// ---------------------------------------------------------------- file bytes

struct FileCloser {
  std::FILE* f;
  ~FileCloser() {
    if (f) std::fclose(f);
  }
};

bool starts_with(const std::vector<std::uint8_t>& b, const char* magic, std::size_t n,
                 std::size_t at = 0) {
  return b.size() >= at + n && std::memcmp(b.data() + at, magic, n) == 0;
}

bool is_png(const std::vector<std::uint8_t>& b) { return starts_with(b, "\x89PNG\r\n\x1a\n", 8); }
bool is_jpeg(const std::vector<std::uint8_t>& b) { return starts_with(b, "\xff\xd8\xff", 3); }

// Names formats people commonly pass by mistake, so the message can say
// "this is a GIF" instead of just "not an image".
std::string unsupported_format_problem(const std::vector<std::uint8_t>& b) {
  const char* known = nullptr;
  if (starts_with(b, "GIF8", 4)) known = "GIF";
  else if (starts_with(b, "BM", 2)) known = "BMP";
  else if (starts_with(b, "RIFF", 4) && starts_with(b, "WEBP", 4, 8)) known = "WebP";
  else if (starts_with(b, "II*\0", 4) || starts_with(b, "MM\0*", 4)) known = "TIFF";
  if (known) return std::string("is a ") + known + " image; only PNG and JPEG are supported";
  return "not a PNG or JPEG image (unrecognised file signature)";
}

// A regular file only (RegularFile): a FIFO would block, a device never end.
// The caller closes the stream.
std::FILE* open_image_file(const std::string& path) {
  RegularFile regular(path);
  std::FILE* file = ::fdopen(regular.fd(), "rb");
  if (!file) throw InputError(path, "cannot open file");
  regular.release();  // the FILE owns the descriptor now
  return file;
}

// Reads the whole file, but looks at the signature first so that a large
// non-image file is refused without being read, and stops past
// kMaxImageFileBytes so that no file (a mistaken disk image) can exhaust
// memory before its header is even looked at.
std::vector<std::uint8_t> read_image_file(const std::string& path) {
  const FileCloser file{open_image_file(path)};

  std::vector<std::uint8_t> bytes(16);
  bytes.resize(std::fread(bytes.data(), 1, bytes.size(), file.f));
  if (std::ferror(file.f)) throw InputError(path, "cannot read file");
  if (bytes.empty()) throw InputError(path, "file is empty (0 bytes), not an image");
  if (!is_png(bytes) && !is_jpeg(bytes)) throw InputError(path, unsupported_format_problem(bytes));

  std::vector<std::uint8_t> chunk(1 << 16);
  std::size_t n;
  while ((n = std::fread(chunk.data(), 1, chunk.size(), file.f)) > 0) {
    if (bytes.size() + n > kMaxImageFileBytes)
      throw InputError(path, "file is larger than the limit of " + std::to_string(kMaxImageFileBytes >> 20) +
                                 " MiB for an image");
    bytes.insert(bytes.end(), chunk.begin(), chunk.begin() + n);
  }
  if (std::ferror(file.f)) throw InputError(path, "cannot read file");
  return bytes;
}

void check_dimensions(const std::string& path, long long width, long long height, long long max_pixels) {
  if (width <= 0 || height <= 0)
    throw InputError(path, "image has zero width or height (" + std::to_string(width) + "x" +
                               std::to_string(height) + ")");
  // Each side first: two 32-bit sides straight from a PNG header can
  // overflow even a 64-bit product (found by fuzzing).
  if (width > max_pixels || height > max_pixels || width * height > max_pixels)
    throw InputError(path, "image is " + std::to_string(width) + "x" + std::to_string(height) +
                               " pixels, more than the limit of " + std::to_string(max_pixels) + " pixels");
}

ImageU8 allocate_image(const std::string& path, int width, int height) {
  try {
    return ImageU8(width, height);
  } catch (const std::bad_alloc&) {
    throw InputError(path, "not enough memory to decode a " + std::to_string(width) + "x" +
                               std::to_string(height) + " image");
  }
}

// ---------------------------------------------------------------------- PNG

// Everything libpng's callbacks touch; trivially destructible (see top).
struct PngSource {
  const std::uint8_t* data;
  std::size_t size;
  std::size_t pos;
  std::jmp_buf jump;
  char message[256];
  bool truncated;
};

void png_on_error(png_structp png, png_const_charp msg) {
  auto* src = static_cast<PngSource*>(png_get_error_ptr(png));
  std::snprintf(src->message, sizeof src->message, "%s", msg);
  std::longjmp(src->jump, 1);
}

void png_on_warning(png_structp, png_const_charp) {}  // Pillow ignores them too

void png_read_from_memory(png_structp png, png_bytep out, png_size_t count) {
  auto* src = static_cast<PngSource*>(png_get_io_ptr(png));
  if (src->size - src->pos < count) {
    src->truncated = true;
    png_error(png, "file is truncated");
  }
  std::memcpy(out, src->data + src->pos, count);
  src->pos += count;
}

struct PngReader {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~PngReader() { png_destroy_read_struct(&png, info ? &info : nullptr, nullptr); }
};

struct PngHeader {
  png_uint_32 width = 0, height = 0;
  int bit_depth = 0, color_type = 0;
};

// Phase 1: chunks up to the image data. False (message in src) on error.
bool png_phase_header(png_structp png, png_infop info, PngSource& src, PngHeader& h) {
  if (setjmp(src.jump)) return false;
  png_read_info(png, info);
  png_get_IHDR(png, info, &h.width, &h.height, &h.bit_depth, &h.color_type, nullptr, nullptr,
               nullptr);
  return true;
}

// Phase 2: transforms to 8-bit RGB, then every row into `rows`.
bool png_phase_pixels(png_structp png, png_infop info, PngSource& src, const PngHeader& h,
                      png_bytep* rows, png_size_t expected_rowbytes, bool& layout_ok) {
  if (setjmp(src.jump)) return false;
  if (h.color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (h.color_type == PNG_COLOR_TYPE_GRAY && h.bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  // Pillow reads 16-bit samples with its ";16B" raw modes: the high byte.
  if (h.bit_depth == 16) png_set_strip_16(png);
  if (!(h.color_type & PNG_COLOR_MASK_COLOR)) png_set_gray_to_rgb(png);
  // convert("RGB") drops alpha (and tRNS) without compositing.
  png_set_strip_alpha(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  layout_ok = png_get_rowbytes(png, info) == expected_rowbytes;
  if (!layout_ok) return true;
  // Chunks after the pixel data are not read: a file whose pixels are all
  // present decodes even if its trailer is cut off.
  png_read_image(png, rows);
  return true;
}

std::uint32_t big_endian32(const std::uint8_t* p) {
  return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | p[3];
}

ImageU8 decode_png(const std::vector<std::uint8_t>& bytes, const std::string& path, long long max_pixels) {
  // Size check straight from the IHDR bytes (signature 8, length 4, "IHDR" 4,
  // width 4, height 4), before libpng reads or allocates anything.
  if (bytes.size() < 24) throw InputError(path, "PNG file is truncated (no complete header)");
  if (std::memcmp(bytes.data() + 12, "IHDR", 4) != 0)
    throw InputError(path, "not a valid PNG (first chunk is not IHDR)");
  check_dimensions(path, big_endian32(bytes.data() + 16), big_endian32(bytes.data() + 20), max_pixels);

  PngSource src{bytes.data(), bytes.size(), 0, {}, {}, false};
  auto fail = [&] {
    if (src.truncated) return InputError(path, "PNG file is truncated");
    return InputError(path, std::string("invalid PNG: ") + src.message);
  };
  PngReader reader;
  reader.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, png_on_error, png_on_warning);
  if (reader.png) reader.info = png_create_info_struct(reader.png);
  if (!reader.png || !reader.info) throw InputError(path, "cannot initialise the PNG decoder");
  png_set_read_fn(reader.png, &src, png_read_from_memory);
  // Our own pixel limit above replaces libpng's default 1,000,000-wide one.
  png_set_user_limits(reader.png, 0x7fffffff, 0x7fffffff);
  png_set_benign_errors(reader.png, 1);

  PngHeader h;
  if (!png_phase_header(reader.png, reader.info, src, h)) throw fail();
  check_dimensions(path, h.width, h.height, max_pixels);
  if (h.bit_depth == 16 && h.color_type == PNG_COLOR_TYPE_GRAY)
    throw InputError(path, "16-bit greyscale PNG is not supported (Pillow would clip it to "
                           "0..255); convert it to 8 bits first");

  ImageU8 img = allocate_image(path, int(h.width), int(h.height));
  std::vector<png_bytep> rows(h.height);
  for (png_uint_32 y = 0; y < h.height; ++y) rows[y] = img.pixel(0, int(y));
  bool layout_ok = false;
  if (!png_phase_pixels(reader.png, reader.info, src, h, rows.data(),
                        png_size_t(h.width) * 3, layout_ok))
    throw fail();
  if (!layout_ok) throw InputError(path, "unsupported PNG pixel layout");
  return img;
}

// --------------------------------------------------------------------- JPEG

// libjpeg's error manager must come first: its callbacks get only a pointer
// to it and cast back to the whole struct.
struct JpegErrors {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool truncated;
};

void jpeg_on_error(j_common_ptr cinfo) {
  auto* e = reinterpret_cast<JpegErrors*>(cinfo->err);
  cinfo->err->format_message(cinfo, e->message);
  std::longjmp(e->jump, 1);
}

// Warnings (corrupt-but-decodable data) are ignored as Pillow ignores them,
// except running out of data: libjpeg then pads the picture with grey, where
// Pillow raises "image file is truncated".
void jpeg_on_message(j_common_ptr cinfo, int level) {
  auto* e = reinterpret_cast<JpegErrors*>(cinfo->err);
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) e->truncated = true;
}

void jpeg_print_nothing(j_common_ptr) {}

// A progressive JPEG may hold any number of scans, and each one makes
// libjpeg pass over the whole coefficient buffer again: a few kilobytes of
// empty scans can keep it busy for minutes. Real encoders write about ten;
// libjpeg-turbo's own advice (djpeg -maxscans) is to stop far above that.
constexpr int kMaxJpegScans = 1000;

void jpeg_limit_scans(j_common_ptr cinfo) {
  if (!cinfo->is_decompressor) return;
  const int scan = reinterpret_cast<j_decompress_ptr>(cinfo)->input_scan_number;
  if (scan <= kMaxJpegScans) return;
  auto* e = reinterpret_cast<JpegErrors*>(cinfo->err);
  std::snprintf(e->message, sizeof e->message, "more than %d progressive scans", kMaxJpegScans);
  std::longjmp(e->jump, 1);
}

struct JpegReader {
  jpeg_decompress_struct cinfo{};
  JpegErrors errors{};
  jpeg_progress_mgr progress{};
  ~JpegReader() { jpeg_destroy_decompress(&cinfo); }  // safe on a failed or zeroed struct
};

bool jpeg_phase_header(JpegReader& r, const std::vector<std::uint8_t>& bytes) {
  if (setjmp(r.errors.jump)) return false;
  jpeg_create_decompress(&r.cinfo);
  r.progress.progress_monitor = jpeg_limit_scans;
  r.cinfo.progress = &r.progress;
  jpeg_mem_src(&r.cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&r.cinfo, TRUE);
  return true;
}

// Reads every scanline; the trailer after them is read leniently (a missing
// end-of-image marker after complete pixel data is not an error).
bool jpeg_phase_pixels(JpegReader& r, std::uint8_t* out, bool& pixels_truncated) {
  if (setjmp(r.errors.jump)) return false;
  r.cinfo.out_color_space = JCS_RGB;  // libjpeg converts YCbCr and replicates grey
  jpeg_start_decompress(&r.cinfo);
  if (r.cinfo.output_components != 3) {
    std::snprintf(r.errors.message, sizeof r.errors.message, "unexpected %d output components",
                  r.cinfo.output_components);
    return false;
  }
  const std::size_t stride = std::size_t(r.cinfo.output_width) * 3;
  while (r.cinfo.output_scanline < r.cinfo.output_height) {
    JSAMPROW row = out + r.cinfo.output_scanline * stride;
    jpeg_read_scanlines(&r.cinfo, &row, 1);
  }
  pixels_truncated = r.errors.truncated;
  if (!pixels_truncated) jpeg_finish_decompress(&r.cinfo);
  return true;
}

ImageU8 decode_jpeg(const std::vector<std::uint8_t>& bytes, const std::string& path, long long max_pixels) {
  JpegReader r;
  r.cinfo.err = jpeg_std_error(&r.errors.mgr);
  r.errors.mgr.error_exit = jpeg_on_error;
  r.errors.mgr.emit_message = jpeg_on_message;
  r.errors.mgr.output_message = jpeg_print_nothing;

  auto fail = [&](const char* stage) {
    if (r.errors.truncated) return InputError(path, "JPEG file is truncated");
    return InputError(path, std::string("invalid JPEG") + stage + ": " + r.errors.message);
  };
  if (!jpeg_phase_header(r, bytes)) throw fail(" header");
  const J_COLOR_SPACE space = r.cinfo.jpeg_color_space;
  if (space == JCS_CMYK || space == JCS_YCCK)
    throw InputError(path, "CMYK JPEG is not supported; convert it to RGB first");
  if (space != JCS_GRAYSCALE && space != JCS_YCbCr && space != JCS_RGB)
    throw InputError(path, "JPEG colour space " + std::to_string(int(space)) + " is not supported");
  check_dimensions(path, r.cinfo.image_width, r.cinfo.image_height, max_pixels);

  ImageU8 img = allocate_image(path, int(r.cinfo.image_width), int(r.cinfo.image_height));
  bool pixels_truncated = false;
  if (!jpeg_phase_pixels(r, img.rgb.data(), pixels_truncated)) throw fail("");
  if (pixels_truncated) throw InputError(path, "JPEG file is truncated");
  return img;
}

}  // namespace

ImageU8 read_image(const std::string& path) {
  const std::vector<std::uint8_t> bytes = read_image_file(path);
  return is_png(bytes) ? decode_png(bytes, path, kMaxImagePixels) : decode_jpeg(bytes, path, kMaxImagePixels);
}

ImageU8 decode_image(const std::vector<std::uint8_t>& bytes, const std::string& name, long long max_pixels) {
  if (bytes.empty()) throw InputError(name, "file is empty (0 bytes), not an image");
  if (is_png(bytes)) return decode_png(bytes, name, max_pixels);
  if (is_jpeg(bytes)) return decode_jpeg(bytes, name, max_pixels);
  throw InputError(name, unsupported_format_problem(bytes));
}

bool is_jpeg_file(const std::string& path) {
  try {
    const FileCloser file{open_image_file(path)};
    std::vector<std::uint8_t> head(3);
    return std::fread(head.data(), 1, 3, file.f) == 3 && is_jpeg(head);
  } catch (const InputError&) {
    return false;  // unreadable: read_image says why
  }
}

}  // namespace lmask
