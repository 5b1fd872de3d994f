// png_write.cpp — 8-bit RGB PNG output, written atomically.
//
// The file is written under a temporary name next to the target and renamed
// over it only when complete, so an interrupted run never leaves a truncated
// picture that looks like a result. libpng's errors are caught with setjmp in
// a frame without C++ objects (see image_decode.cpp for why).
#include "lmask/image.h"

#include <unistd.h>

#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <png.h>

#include "lmask/atomic_file.h"
#include "lmask/error.h"

namespace lmask {

namespace {

struct PngSink {
  std::FILE* file;
  std::jmp_buf jump;
  char message[256];
};

void on_error(png_structp png, png_const_charp msg) {
  auto* sink = static_cast<PngSink*>(png_get_error_ptr(png));
  std::snprintf(sink->message, sizeof sink->message, "%s", msg);
  std::longjmp(sink->jump, 1);
}

void on_warning(png_structp, png_const_charp) {}

struct PngWriter {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~PngWriter() { png_destroy_write_struct(&png, info ? &info : nullptr); }
};

bool write_phase(png_structp png, png_infop info, PngSink& sink, const ImageU8& img,
                 png_bytep* rows) {
  if (setjmp(sink.jump)) return false;
  png_init_io(png, sink.file);
  png_set_IHDR(png, info, png_uint_32(img.width), png_uint_32(img.height), 8, PNG_COLOR_TYPE_RGB,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_write_image(png, rows);
  png_write_end(png, nullptr);
  return true;
}

}  // namespace

void write_png(const std::string& path, const ImageU8& img) {
  if (img.width <= 0 || img.height <= 0 ||
      img.rgb.size() != static_cast<std::size_t>(img.width) * img.height * 3)
    throw InputError(path, "cannot write an empty or inconsistent image");
  const std::string temp = temporary_path_for(path);

  PngSink sink{std::fopen(temp.c_str(), "wb"), {}, {}};
  if (!sink.file) throw InputError(path, "cannot create file (" + std::string(std::strerror(errno)) + ")");
  std::vector<png_bytep> rows(img.height);
  for (int y = 0; y < img.height; ++y) rows[y] = const_cast<png_bytep>(img.pixel(0, y));

  bool ok;
  {
    PngWriter writer;
    writer.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &sink, on_error, on_warning);
    if (writer.png) writer.info = png_create_info_struct(writer.png);
    if (!writer.png || !writer.info) std::snprintf(sink.message, sizeof sink.message, "out of memory");
    ok = writer.info && write_phase(writer.png, writer.info, sink, img, rows.data());
  }
  // fclose flushes: a full disk shows up here, not in fwrite.
  const bool flushed = std::fclose(sink.file) == 0;
  finish_temporary(temp, path, ok && flushed,
                   std::string("cannot write PNG: ") + (ok ? "write failed (disk full?)" : sink.message));
}

}  // namespace lmask
