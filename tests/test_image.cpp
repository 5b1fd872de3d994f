// test_image.cpp — decoding, Pillow-exact resizing, torchvision preprocessing, PNG output.
//
// Resizes are checked on small cases worked out by hand from Pillow's
// algorithm, and end to end against the golden torchvision preprocessing;
// the test never runs Python. Test images are built here (PNG bytes with zlib,
// JPEG through libjpeg) in a temporary folder that is removed afterwards.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <jpeglib.h>
#include <zlib.h>

#include "fifo_guard.h"
#include "golden.h"
#include "lmask/error.h"
#include "lmask/image.h"
#include "lmask/mask_builders.h"
#include "temp_dir.h"

namespace fs = std::filesystem;
using lmask::ImageU8;
using lmask::InputError;

using lmask::testing::TempDir;

namespace {

const char* kGoldenImages[] = {"chelsea", "coffee", "astronaut"};

using Bytes = std::vector<std::uint8_t>;

void write_file(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

Bytes read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void put_be32(Bytes& b, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(std::uint8_t(v >> s));
}

// One PNG chunk: length, type, data, CRC over type + data.
void put_chunk(Bytes& png, const char* type, const Bytes& data) {
  put_be32(png, std::uint32_t(data.size()));
  Bytes body(type, type + 4);
  body.insert(body.end(), data.begin(), data.end());
  png.insert(png.end(), body.begin(), body.end());
  put_be32(png, std::uint32_t(crc32(0, body.data(), uInt(body.size()))));
}

Bytes png_header(std::uint32_t width, std::uint32_t height, int bit_depth, int color_type) {
  Bytes png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  Bytes ihdr;
  put_be32(ihdr, width);
  put_be32(ihdr, height);
  ihdr.insert(ihdr.end(), {std::uint8_t(bit_depth), std::uint8_t(color_type), 0, 0, 0});
  put_chunk(png, "IHDR", ihdr);
  return png;
}

// An 8-bit, non-interlaced PNG of `channels` samples per pixel (1 grey,
// 2 grey+alpha, 3 RGB, 4 RGBA) from interleaved row-major samples.
Bytes make_png(int width, int height, int channels, const Bytes& samples) {
  const int color_type[] = {0, 0, 4, 2, 6};
  Bytes png = png_header(width, height, 8, color_type[channels]);
  Bytes raw;  // each row: filter byte 0 (none), then the samples
  for (int y = 0; y < height; ++y) {
    raw.push_back(0);
    auto row = samples.begin() + std::ptrdiff_t(y) * width * channels;
    raw.insert(raw.end(), row, row + width * channels);
  }
  Bytes packed(compressBound(uLong(raw.size())));
  uLongf packed_size = uLongf(packed.size());
  REQUIRE(compress(packed.data(), &packed_size, raw.data(), uLong(raw.size())) == Z_OK);
  packed.resize(packed_size);
  put_chunk(png, "IDAT", packed);
  put_chunk(png, "IEND", {});
  return png;
}

// A baseline JPEG through libjpeg. `components`: 1 grey, 3 RGB, 4 CMYK.
Bytes make_jpeg(int width, int height, int components, const Bytes& samples, int quality) {
  jpeg_compress_struct cinfo{};
  jpeg_error_mgr err{};
  cinfo.err = jpeg_std_error(&err);
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = JDIMENSION(width);
  cinfo.image_height = JDIMENSION(height);
  cinfo.input_components = components;
  cinfo.in_color_space = components == 1 ? JCS_GRAYSCALE : components == 3 ? JCS_RGB : JCS_CMYK;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(samples.data()) +
                   std::size_t(cinfo.next_scanline) * width * components;
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  Bytes out(buffer, buffer + size);
  jpeg_destroy_compress(&cinfo);
  std::free(buffer);
  return out;
}

ImageU8 make_image(int width, int height, std::initializer_list<int> values) {
  ImageU8 img(width, height);
  REQUIRE(values.size() == img.rgb.size());
  std::copy(values.begin(), values.end(), img.rgb.begin());
  return img;
}

// A single-row (or column) grey image: each value becomes an R=G=B pixel.
ImageU8 grey_line(int width, int height, std::initializer_list<int> values) {
  ImageU8 img(width, height);
  REQUIRE(values.size() * 3 == img.rgb.size());
  std::size_t i = 0;
  for (int v : values)
    for (int c = 0; c < 3; ++c) img.rgb[i++] = std::uint8_t(v);
  return img;
}

std::vector<int> red_channel(const ImageU8& img) {
  std::vector<int> red;
  for (std::size_t i = 0; i < img.rgb.size(); i += 3) red.push_back(img.rgb[i]);
  return red;
}

// read_image(path) must throw an InputError naming the path and saying `problem`.
void check_refused(const std::string& path, const std::string& problem) {
  CAPTURE(path);
  try {
    lmask::read_image(path);
    FAIL("no InputError for " << path);
  } catch (const InputError& e) {
    const std::string message = e.what();
    CAPTURE(message);
    CHECK(message.find(path) != std::string::npos);
    CHECK(message.find(problem) != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
  }
}

}  // namespace

TEST_CASE("image: golden PNGs decode to their recorded RGB bytes") {
  lmask::Hdf5File golden(lmask::testing::golden_path("cases.h5"));
  for (const char* name : kGoldenImages) {
    CAPTURE(name);
    const ImageU8 img = lmask::read_image(lmask::testing::golden_path(std::string("images/") + name + ".png"));
    const std::string key = std::string("preprocess/") + name + ".png/raw_rgb_u8";
    const auto dims = golden.dims(key);  // [H, W, 3]
    REQUIRE(dims.size() == 3);
    CHECK(img.height == int(dims[0]));
    CHECK(img.width == int(dims[1]));
    CHECK(img.rgb == golden.read_bytes(key));
  }
}

TEST_CASE("image: preprocess_01 equals torchvision Resize(256)+CenterCrop(224)+ToTensor") {
  // Measured: bit-exact (max |diff| 0 on all three images). The 1e-6 bound
  // is below 1/255, so a single differing byte anywhere fails.
  lmask::Hdf5File golden(lmask::testing::golden_path("cases.h5"));
  for (const char* name : kGoldenImages) {
    CAPTURE(name);
    const ImageU8 img = lmask::read_image(lmask::testing::golden_path(std::string("images/") + name + ".png"));
    const lmask::Tensor x = lmask::preprocess_01(img, 256, 224);
    REQUIRE(x.shape() == lmask::Shape{1, 3, 224, 224});
    const lmask::Tensor expected =
        lmask::testing::read_tensor(golden, std::string("preprocess/") + name + ".png/expected_01");
    CHECK(lmask::max_abs_diff(x, expected) <= 1e-6f);
  }
}

TEST_CASE("image: sample pictures in data/ decode") {
  const std::string data = std::string(LMASK_SOURCE_DIR) + "/data/";
  lmask::Hdf5File golden(lmask::testing::golden_path("cases.h5"));
  CHECK(lmask::read_image(data + "chelsea.png").rgb == golden.read_bytes("preprocess/chelsea.png/raw_rgb_u8"));
  CHECK(lmask::read_image(data + "coffee.png").rgb == golden.read_bytes("preprocess/coffee.png/raw_rgb_u8"));
  const ImageU8 rocket = lmask::read_image(data + "rocket.jpg");
  CHECK(rocket.width == 640);
  CHECK(rocket.height == 427);
}

TEST_CASE("image: bilinear resize matches Pillow on hand-worked cases") {
  SUBCASE("upscale 2 -> 4: triangle weights 3/4, 1/4, edges clamp") {
    // Output centres 0.25, 0.75, 1.25, 1.75 in input pixels; middle pixels
    // weigh (3/4, 1/4): 255/4 = 63.75 plus the 1/2 rounding bias -> 64.
    CHECK(red_channel(lmask::resize_bilinear_pil(grey_line(2, 1, {0, 255}), 4, 1)) ==
          std::vector<int>{0, 64, 191, 255});
  }
  SUBCASE("downscale 4 -> 2 is antialiased: the filter widens to 2 pixels") {
    // Output 0 sees inputs 0,1,2 with weights 3/7, 3/7, 1/7 -> 71.4 -> 71;
    // output 1 sees 1,2,3 with 1/7, 3/7, 3/7 -> 117.1 -> 117.
    CHECK(red_channel(lmask::resize_bilinear_pil(grey_line(4, 1, {0, 100, 200, 40}), 2, 1)) ==
          std::vector<int>{71, 117});
    // The same along y exercises the vertical pass alone.
    CHECK(red_channel(lmask::resize_bilinear_pil(grey_line(1, 4, {0, 100, 200, 40}), 1, 2)) ==
          std::vector<int>{71, 117});
  }
  SUBCASE("horizontal pass first, rounded to bytes before the vertical pass") {
    // [[0,0],[1,3]] -> 1x1: rows give 0 and 2, then (0+2)/2 = 1. Vertical
    // first would give columns 1 (0.5 rounds up) and 2, hence 2.
    CHECK(red_channel(lmask::resize_bilinear_pil(grey_line(2, 2, {0, 0, 1, 3}), 1, 1)) ==
          std::vector<int>{1});
  }
  SUBCASE("channels are independent and flat colour survives odd sizes") {
    ImageU8 flat(37, 23);
    for (std::size_t i = 0; i < flat.rgb.size(); i += 3) flat.rgb[i] = 200, flat.rgb[i + 1] = 7, flat.rgb[i + 2] = 255;
    for (auto [w, h] : {std::pair{101, 7}, {5, 61}, {1, 1}, {37, 40}, {200, 23}}) {
      CAPTURE(w);
      CAPTURE(h);
      const ImageU8 out = lmask::resize_bilinear_pil(flat, w, h);
      REQUIRE(out.width == w);
      REQUIRE(out.height == h);
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          const std::uint8_t* p = out.pixel(x, y);
          REQUIRE((p[0] == 200 && p[1] == 7 && p[2] == 255));
        }
    }
  }
  SUBCASE("same size is a copy") {
    const ImageU8 img = make_image(2, 1, {1, 2, 3, 4, 5, 6});
    CHECK(lmask::resize_bilinear_pil(img, 2, 1).rgb == img.rgb);
  }
  CHECK_THROWS_AS(lmask::resize_bilinear_pil(grey_line(2, 1, {0, 1}), 0, 1), std::invalid_argument);
}

TEST_CASE("image: nearest resize matches Pillow on hand-worked cases") {
  // Sample positions are (i + 0.5) * in/out, truncated.
  CHECK(red_channel(lmask::resize_nearest_pil(grey_line(3, 1, {0, 1, 2}), 7, 1)) ==
        std::vector<int>{0, 0, 1, 1, 1, 2, 2});
  CHECK(red_channel(lmask::resize_nearest_pil(grey_line(5, 1, {0, 1, 2, 3, 4}), 2, 1)) ==
        std::vector<int>{1, 3});
  CHECK(red_channel(lmask::resize_nearest_pil(grey_line(2, 2, {1, 2, 3, 4}), 4, 4)) ==
        std::vector<int>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
}

TEST_CASE("image: center_crop uses torchvision's round-half-even offsets") {
  // A 9x7 image whose red channel is 10*x + y marks where each pixel came from.
  ImageU8 img(9, 7);
  for (int y = 0; y < 7; ++y)
    for (int x = 0; x < 9; ++x) img.pixel(x, y)[0] = std::uint8_t(10 * x + y);
  // Width: (9-2)/2 = 3.5 -> 4 (even). Height: (7-2)/2 = 2.5 -> 2 (even).
  CHECK(red_channel(lmask::center_crop(img, 2, 2)) == std::vector<int>{42, 52, 43, 53});
  // (9-4)/2 = 2.5 -> 2; (7-4)/2 = 1.5 -> 2.
  CHECK(lmask::center_crop(img, 4, 4).pixel(0, 0)[0] == 22);
  // A crop larger than the image pads with black, floor of half before.
  const ImageU8 padded = lmask::center_crop(grey_line(2, 1, {5, 6}), 5, 3);
  CHECK(red_channel(padded) == std::vector<int>{0, 0, 0, 0, 0, 0, 5, 6, 0, 0, 0, 0, 0, 0, 0});
}

TEST_CASE("image: normalize and tensor01_to_image") {
  lmask::Tensor x(lmask::Shape{2, 3, 1, 2});
  for (std::size_t i = 0; i < x.numel(); ++i) x.data()[i] = float(i) / 11.0f;
  lmask::Tensor y = x.clone();
  lmask::normalize(y, {0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f});
  CHECK(y.at(1, 2, 0, 1) == (x.at(1, 2, 0, 1) - 0.406f) / 0.225f);
  CHECK(y.at(0, 0, 0, 0) == (0.0f - 0.485f) / 0.229f);
  CHECK_THROWS_AS(lmask::normalize(y, {0.5f}, {0.5f}), std::invalid_argument);

  lmask::Tensor t(lmask::Shape{1, 3, 1, 2});
  const float values[] = {-0.5f, 2.0f, 0.5f, 1.0f / 255.0f, 0.2f, NAN};  // R0 R1 G0 G1 B0 B1
  std::copy(std::begin(values), std::end(values), t.data());
  const ImageU8 img = lmask::tensor01_to_image(t, 0);
  CHECK(img.width == 2);
  CHECK(img.height == 1);
  CHECK(img.rgb == std::vector<std::uint8_t>{0, 128, 51, 255, 1, 0});
  // A one-channel tensor (a mask) becomes grey.
  const ImageU8 grey = lmask::tensor01_to_image(lmask::Tensor::filled({2, 1, 1, 1}, 1.0f), 1);
  CHECK(grey.rgb == std::vector<std::uint8_t>{255, 255, 255});
}

TEST_CASE("image: write_png round-trips and is atomic") {
  TempDir tmp("image");
  ImageU8 img(13, 5);
  for (std::size_t i = 0; i < img.rgb.size(); ++i) img.rgb[i] = std::uint8_t(i * 37 + 11);
  const std::string path = tmp.file("out.png");
  lmask::write_png(path, img);
  lmask::write_png(path, img);  // replacing an existing file works too
  const ImageU8 back = lmask::read_image(path);
  CHECK(back.width == 13);
  CHECK(back.height == 5);
  CHECK(back.rgb == img.rgb);
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(tmp.path)) left.push_back(e.path().filename().string());
  CHECK(left == std::vector<std::string>{"out.png"});  // no temporary left behind

  const std::string bad = tmp.file("no/such/dir/out.png");
  CHECK_THROWS_WITH_AS(lmask::write_png(bad, img), doctest::Contains(bad.c_str()), InputError);
}

TEST_CASE("image: PNG colour types become RGB as Pillow's convert(\"RGB\")") {
  TempDir tmp("image");
  SUBCASE("grey is replicated") {
    write_file(tmp.file("grey.png"), make_png(3, 1, 1, {0, 128, 255}));
    CHECK(lmask::read_image(tmp.file("grey.png")).rgb ==
          std::vector<std::uint8_t>{0, 0, 0, 128, 128, 128, 255, 255, 255});
  }
  SUBCASE("grey + alpha: alpha dropped, grey replicated") {
    write_file(tmp.file("ga.png"), make_png(2, 1, 2, {40, 0, 90, 255}));
    CHECK(lmask::read_image(tmp.file("ga.png")).rgb == std::vector<std::uint8_t>{40, 40, 40, 90, 90, 90});
  }
  SUBCASE("RGBA: alpha dropped, not composited") {
    write_file(tmp.file("rgba.png"), make_png(2, 1, 4, {10, 20, 30, 0, 40, 50, 60, 128}));
    CHECK(lmask::read_image(tmp.file("rgba.png")).rgb == std::vector<std::uint8_t>{10, 20, 30, 40, 50, 60});
  }
  SUBCASE("the file name's extension is ignored") {
    write_file(tmp.file("really_a_png.jpg"), make_png(1, 1, 3, {1, 2, 3}));
    CHECK(lmask::read_image(tmp.file("really_a_png.jpg")).rgb == std::vector<std::uint8_t>{1, 2, 3});
  }
  SUBCASE("16-bit greyscale is refused clearly") {
    Bytes png = png_header(1, 1, 16, 0);
    Bytes raw = {0, 0x12, 0x34}, packed(64);
    uLongf size = uLongf(packed.size());
    REQUIRE(compress(packed.data(), &size, raw.data(), uLong(raw.size())) == Z_OK);
    packed.resize(size);
    put_chunk(png, "IDAT", packed);
    put_chunk(png, "IEND", {});
    write_file(tmp.file("grey16.png"), png);
    check_refused(tmp.file("grey16.png"), "16-bit greyscale");
  }
}

TEST_CASE("image: JPEG decoding") {
  TempDir tmp("image");
  const int w = 64, h = 48;
  Bytes rgb(std::size_t(w) * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      std::uint8_t* p = &rgb[(std::size_t(y) * w + x) * 3];
      p[0] = std::uint8_t(4 * x), p[1] = std::uint8_t(5 * y), p[2] = 160;
    }
  write_file(tmp.file("smooth.jpg"), make_jpeg(w, h, 3, rgb, 95));
  const ImageU8 img = lmask::read_image(tmp.file("smooth.jpg"));
  REQUIRE(img.width == w);
  REQUIRE(img.height == h);
  double max_error = 0, sum_error = 0;
  for (std::size_t i = 0; i < rgb.size(); ++i) {
    const double e = std::abs(int(img.rgb[i]) - int(rgb[i]));
    max_error = std::max(max_error, e);
    sum_error += e;
  }
  // Quality 95 on smooth gradients: a few levels at most (chroma is subsampled).
  CHECK(max_error <= 12);
  CHECK(sum_error / double(rgb.size()) <= 2.0);

  Bytes grey(std::size_t(w) * h);
  for (std::size_t i = 0; i < grey.size(); ++i) grey[i] = std::uint8_t(i % w * 3);
  write_file(tmp.file("grey.jpg"), make_jpeg(w, h, 1, grey, 90));
  const ImageU8 g = lmask::read_image(tmp.file("grey.jpg"));
  REQUIRE(g.width == w);
  for (std::size_t i = 0; i < g.rgb.size(); i += 3) {
    REQUIRE(g.rgb[i] == g.rgb[i + 1]);
    REQUIRE(g.rgb[i] == g.rgb[i + 2]);
  }

  write_file(tmp.file("cmyk.jpg"), make_jpeg(w, h, 4, Bytes(std::size_t(w) * h * 4, 100), 90));
  check_refused(tmp.file("cmyk.jpg"), "CMYK");
}

TEST_CASE("image: bad files throw one-line InputErrors naming the file") {
  TempDir tmp("image");
  check_refused(tmp.file("missing.png"), "no such file");

  write_file(tmp.file("empty.png"), {});
  check_refused(tmp.file("empty.png"), "empty");

  Bytes garbage;
  for (int i = 0; i < 1000; ++i) garbage.push_back(std::uint8_t(i * 7919 % 251));
  write_file(tmp.file("garbage.png"), garbage);
  check_refused(tmp.file("garbage.png"), "not a PNG or JPEG");

  write_file(tmp.file("anim.gif"), {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0});
  check_refused(tmp.file("anim.gif"), "GIF");

  Bytes png = read_file(lmask::testing::golden_path("images/chelsea.png"));
  REQUIRE(png.size() > 1000);
  write_file(tmp.file("half.png"), Bytes(png.begin(), png.begin() + std::ptrdiff_t(png.size() / 2)));
  check_refused(tmp.file("half.png"), "truncated");
  write_file(tmp.file("header_only.png"), Bytes(png.begin(), png.begin() + 20));
  check_refused(tmp.file("header_only.png"), "truncated");

  Bytes rgb(64 * 64 * 3);
  for (std::size_t i = 0; i < rgb.size(); ++i) rgb[i] = std::uint8_t(i * 31 % 256);
  const Bytes jpeg = make_jpeg(64, 64, 3, rgb, 90);
  write_file(tmp.file("half.jpg"), Bytes(jpeg.begin(), jpeg.begin() + std::ptrdiff_t(jpeg.size() / 2)));
  check_refused(tmp.file("half.jpg"), "truncated");
  write_file(tmp.file("header_only.jpg"), Bytes(jpeg.begin(), jpeg.begin() + 100));
  check_refused(tmp.file("header_only.jpg"), "truncated");

  // A valid IHDR claiming 200000 x 200000 (120 GB of RGB): refused from the
  // header alone, long before any pixel memory could be requested.
  Bytes huge = png_header(200000, 200000, 8, 2);
  put_chunk(huge, "IEND", {});
  write_file(tmp.file("huge.png"), huge);
  check_refused(tmp.file("huge.png"), "more than the limit");

  Bytes zero = png_header(0, 10, 8, 2);
  put_chunk(zero, "IEND", {});
  write_file(tmp.file("zero.png"), zero);
  check_refused(tmp.file("zero.png"), "zero width or height");

  check_refused(tmp.path.string(), "directory");
}

TEST_CASE("image: a FIFO given as an image or as a mask is refused at once, not waited on") {
  // Opening a FIFO for reading blocks until a writer comes: the reader must
  // look at what the path is before it reads anything.
  TempDir tmp("image");
  const std::string fifo = tmp.file("photo.png");
  lmask::testing::FifoGuard guard(fifo);
  REQUIRE(guard.made());
  CHECK(guard.error_of([&] { lmask::read_image(fifo); }) == fifo + ": is a FIFO (named pipe), not a regular file");
  CHECK_FALSE(guard.blocked());
  // A mask is read through is_jpeg_file first (JPEG masks are refused).
  bool jpeg = true;
  CHECK(guard.error_of([&] { jpeg = lmask::is_jpeg_file(fifo); }).empty());
  CHECK_FALSE(jpeg);
  CHECK_FALSE(guard.blocked());
  CHECK(guard.error_of([&] { lmask::mask_from_png(fifo, 8, 8, 8, 8, false); }) ==
        fifo + ": is a FIFO (named pipe), not a regular file");
  CHECK_FALSE(guard.blocked());
}

TEST_CASE("image: decode_image from memory decodes as read_image does, naming the given file") {
  const std::string path = lmask::testing::golden_path("images/chelsea.png");
  const Bytes png = read_file(path);
  const ImageU8 from_file = lmask::read_image(path);
  const ImageU8 from_memory = lmask::decode_image(png, "chelsea (memory)");
  CHECK(from_memory.width == from_file.width);
  CHECK(from_memory.height == from_file.height);
  CHECK(from_memory.rgb == from_file.rgb);
  // The pixel limit can be lowered (the fuzzers do): refused from the header.
  try {
    lmask::decode_image(png, "chelsea (memory)", 1000);
    FAIL_CHECK("no error under a 1000-pixel limit");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).rfind("chelsea (memory): image is ", 0) == 0);
    CHECK(std::string(e.what()).find("limit of 1000 pixels") != std::string::npos);
  }
  // Found by fuzzing: 2^32-1 x 2^32-1 from the header overflowed the pixel
  // count's 64-bit product (undefined behaviour) before it was compared.
  Bytes widest = png_header(0xffffffffu, 0xffffffffu, 8, 2);
  put_chunk(widest, "IEND", {});
  try {
    lmask::decode_image(widest, "widest.png");
    FAIL_CHECK("no error for a 2^32-1 square PNG");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("more than the limit") != std::string::npos);
  }
  CHECK_THROWS_AS(lmask::decode_image({}, "nothing"), InputError);
  CHECK_THROWS_AS(lmask::decode_image({'G', 'I', 'F', '8', '9', 'a'}, "a.gif"), InputError);
}

TEST_CASE("image: a sliver that would resize beyond the pixel limit is refused, naming the file") {
  // 1 x 400000 pixels decodes (0.4 megapixels), but Resize(256) would make
  // it 256 x 102400000: preprocessing refuses it before allocating that.
  TempDir tmp("image");
  const std::string path = tmp.file("sliver.png");
  write_file(path, make_png(1, 400000, 1, Bytes(400000, 128)));
  const ImageU8 img = lmask::read_image(path);
  REQUIRE(img.height == 400000);
  try {
    lmask::preprocess_01(img, 256, 224, path);
    FAIL_CHECK("no error for a sliver");
  } catch (const InputError& e) {
    const std::string message = e.what();
    CAPTURE(message);
    CHECK(message.rfind(path + ": ", 0) == 0);
    CHECK(message.find("sides too unequal") != std::string::npos);
  }
  // Ordinary pictures get torchvision's size: the short side, then int(256 * long / short).
  CHECK(lmask::resized_size(500, 375, 256, "x").width == 341);
  CHECK(lmask::resized_size(500, 375, 256, "x").height == 256);
  CHECK(lmask::resized_size(28, 28, 64, "x").width == 64);
  CHECK_THROWS_AS(lmask::resized_size(0, 5, 256, "x"), InputError);
}
