// test_dataset.cpp — the idx reader (plain, gzip, every kind of damage), the
// Fashion-MNIST dataset on generated files and on Debian's real one, and a
// tiny ImageFolder tree built here, with and without object masks.
#include <doctest/doctest.h>
#include <sys/resource.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "error_of.h"
#include "fifo_guard.h"
#include "lmask/dataset.h"
#include "lmask/error.h"
#include "lmask/image.h"
#include "temp_dir.h"
#include "tiny_fashion_mnist.h"

using namespace lmask;
using lmask::testing::TempDir;
using lmask::testing::idx_bytes;
using lmask::testing::write_gzip;
using lmask::testing::write_tiny_fashion_mnist;
namespace fs = std::filesystem;

using lmask::testing::error_of;

namespace {

using Bytes = std::vector<std::uint8_t>;

void write_plain(const std::string& path, const Bytes& bytes) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

Bytes read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

Bytes counting(std::size_t n) {
  Bytes v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(i * 7);
  return v;
}

Weights meta_for(int size) {
  Weights meta;
  meta.input_size = meta.resize_size = size;
  return meta;
}

void write_picture(const std::string& path, int w, int h, std::uint8_t value) {
  ImageU8 img(w, h);
  std::fill(img.rgb.begin(), img.rgb.end(), value);
  write_png(path, img);
}

}  // namespace

TEST_CASE("dataset: read_idx reads plain and gzip files alike") {
  TempDir tmp("dataset");
  const Bytes values = counting(2 * 3 * 4);
  write_plain(tmp.file("a.idx"), idx_bytes({2, 3, 4}, values));
  write_gzip(tmp.file("a.idx.gz"), idx_bytes({2, 3, 4}, values));
  for (const char* name : {"a.idx", "a.idx.gz"}) {
    const IdxArray a = read_idx(tmp.file(name));
    CHECK(a.dims == std::vector<std::uint32_t>{2, 3, 4});
    CHECK(a.values == values);
  }
}

TEST_CASE("dataset: read_idx refuses damaged files with one line naming the file") {
  TempDir tmp("dataset");
  const Bytes good = idx_bytes({10, 28, 28}, counting(10 * 28 * 28));
  write_gzip(tmp.file("good.gz"), good);
  const Bytes gz = read_all(tmp.file("good.gz"));

  struct Case {
    const char* name;
    Bytes bytes;
    bool gzip;
    const char* expected;
  };
  const std::vector<Case> cases = {
      {"short-data", Bytes(good.begin(), good.end() - 100), true, "truncated: the data ends"},
      {"short-header", Bytes(good.begin(), good.begin() + 6), false, "truncated: the header ends"},
      {"extra-data", [&] { Bytes b = good; b.push_back(1); return b; }(), false, "more data than the idx header"},
      {"bad-magic", [&] { Bytes b = good; b[0] = 0x1f; b[1] = 0x00; return b; }(), false, "bad magic"},
      {"float-type", idx_bytes({2}, counting(8), 0x0D), false, "not unsigned byte"},
      {"rank-0", idx_bytes({}, {}), false, "rank 0"},
      {"huge-header", idx_bytes({65536, 65536, 2}, {}), false, "more than 2^30 values"},
      {"cut-gzip", Bytes(gz.begin(), gz.begin() + gz.size() / 2), false, "the gzip stream is cut off"},
      {"empty", {}, false, "truncated: the header ends after 0"},
  };
  for (const Case& c : cases) {
    const std::string path = tmp.file(c.name);
    CAPTURE(path);
    if (c.gzip) write_gzip(path, c.bytes);
    else write_plain(path, c.bytes);
    const std::string message = error_of([&] { read_idx(path); });
    CAPTURE(message);
    CHECK(message.rfind(path + ": ", 0) == 0);
    CHECK(message.find(c.expected) != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
  }
  CHECK(error_of([&] { read_idx(tmp.file("missing.gz")); }) == tmp.file("missing.gz") + ": no such file");
}

TEST_CASE("dataset: Fashion-MNIST samples are resized grey images with labels and object masks") {
  TempDir tmp("dataset");
  write_tiny_fashion_mnist(tmp);
  const auto data = open_dataset("fmnist:test:" + tmp.path.string(), meta_for(56));
  REQUIRE(data->size() == 2);
  CHECK(data->class_names().at(9) == "Ankle boot");
  const Sample s = data->get(0);
  CHECK(s.label == 3);
  CHECK(s.name == "fmnist:test#0");
  REQUIRE(s.image01.shape() == Shape{1, 3, 56, 56});
  REQUIRE(s.object.tensor().shape() == Shape{1, 1, 56, 56});
  // 28 -> 56 doubles every pixel: the square [6,20)x[10,18) becomes [12,40)x[20,36).
  for (int y = 0; y < 56; ++y)
    for (int x = 0; x < 56; ++x) {
      const bool inside = x >= 12 && x < 40 && y >= 20 && y < 36;
      CHECK(s.object.tensor().at(0, 0, y, x) == (inside ? 1.f : 0.f));
      CHECK(s.image01.at(0, 0, y, x) == s.image01.at(0, 2, y, x));  // grey in all channels
    }
  CHECK(s.image01.at(0, 1, 28, 26) == doctest::Approx(200 / 255.0));  // deep inside the square
  CHECK(s.image01.at(0, 1, 2, 2) == doctest::Approx(25 / 255.0));

  const Batch b = load_batch(*data, 0, 2);
  CHECK(b.labels == std::vector<int>{3, 9});
  CHECK(b.images01.shape() == Shape{2, 3, 56, 56});
  CHECK(b.objects.n() == 2);
  CHECK(b.objects.tensor().at(1, 0, 30, 24) == 1.f);  // the transposed square of image 1
}

TEST_CASE("dataset: Fashion-MNIST files that disagree are refused") {
  TempDir tmp("dataset");
  write_tiny_fashion_mnist(tmp);
  const std::string labels = tmp.file("t10k-labels-idx1-ubyte.gz");
  const std::string spec = "fmnist:test:" + tmp.path.string();
  write_gzip(labels, idx_bytes({3}, {1, 2, 3}));
  CHECK(error_of([&] { open_dataset(spec, meta_for(64)); }) == labels + ": 3 labels for 2 images");
  write_gzip(labels, idx_bytes({2}, {1, 12}));
  CHECK(error_of([&] { open_dataset(spec, meta_for(64)); }) == labels + ": label 12 of item 1 is not a class 0..9");
  CHECK(error_of([&] { open_dataset("fmnist:validation", meta_for(64)); }).find("unknown split") !=
        std::string::npos);
  CHECK(error_of([&] { open_dataset("imagenet:val", meta_for(64)); }).find("unknown dataset") !=
        std::string::npos);
}

TEST_CASE("dataset: Debian's Fashion-MNIST test split is read in full") {
  const auto data = open_dataset("fmnist:test", meta_for(64));
  REQUIRE(data->size() == 10000);
  // The published label sequence of the t10k file starts 9, 2, 1, 1, 6.
  const std::vector<int> first = {9, 2, 1, 1, 6};
  for (int i = 0; i < 5; ++i) CHECK(data->get(i).label == first[i]);
}

TEST_CASE("dataset: an ImageFolder tree gives torchvision's class order and labels") {
  TempDir tmp("dataset");
  const fs::path root = tmp.path / "images", masks = tmp.path / "masks";
  for (const char* cls : {"zebra", "apple", "Mango"}) {
    fs::create_directories(root / cls);
    fs::create_directories(masks / cls);
  }
  write_picture((root / "zebra" / "b.png").string(), 40, 30, 10);
  write_picture((root / "zebra" / "a.PNG").string(), 40, 30, 20);
  write_picture((root / "apple" / "x.png").string(), 30, 40, 30);
  write_picture((root / "Mango" / "m.png").string(), 32, 32, 40);
  std::ofstream(root / "apple" / "notes.txt") << "not an image";
  write_picture((masks / "zebra" / "b.png").string(), 40, 30, 255);
  write_picture((masks / "zebra" / "a.png").string(), 40, 30, 0);
  write_picture((masks / "apple" / "x.png").string(), 30, 40, 255);
  write_picture((masks / "Mango" / "m.png").string(), 32, 32, 255);

  const auto data = open_dataset("folder:" + root.string(), meta_for(16));
  // Byte order, as Python's sorted(): upper case first.
  CHECK(data->class_names() == std::vector<std::string>{"Mango", "apple", "zebra"});
  REQUIRE(data->size() == 4);
  const std::vector<std::pair<std::string, int>> expected = {
      {"Mango/m.png", 0}, {"apple/x.png", 1}, {"zebra/a.PNG", 2}, {"zebra/b.png", 2}};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const Sample s = data->get(i);
    CHECK(s.name == (root / expected[i].first).string());
    CHECK(s.label == expected[i].second);
    CHECK(s.image01.shape() == Shape{1, 3, 16, 16});
    CHECK(s.object.empty());
  }
  CHECK(data->get(2).image01.at(0, 0, 5, 5) == doctest::Approx(20 / 255.0));

  const auto with_masks = open_dataset("folder:" + root.string() + ",masks=" + masks.string(), meta_for(16));
  CHECK(with_masks->get(2).object.count_visible() == 0);
  CHECK(with_masks->get(3).object.count_visible() == 16 * 16);
}

TEST_CASE("dataset: an ImageFolder without images, or a missing mask, is refused") {
  TempDir tmp("dataset");
  fs::create_directories(tmp.path / "empty" / "cls");
  CHECK(error_of([&] { open_dataset("folder:" + tmp.file("empty"), meta_for(16)); }) ==
        tmp.file("empty") + ": no PNG or JPEG images in root/<class>/ subdirectories");
  CHECK(error_of([&] { open_dataset("folder:" + tmp.file("nope"), meta_for(16)); }) ==
        tmp.file("nope") + ": not a directory");
  fs::create_directories(tmp.path / "masks");
  write_picture(tmp.file("empty/cls/a.png"), 8, 8, 1);
  const auto data = open_dataset("folder:" + tmp.file("empty") + ",masks=" + tmp.file("masks"), meta_for(8));
  CHECK(error_of([&] { data->get(0); }).rfind(tmp.file("masks/cls/a.png") + ": ", 0) == 0);
}

TEST_CASE("dataset: a FIFO as the idx images file of fmnist:test:DIR is refused at once, not waited on") {
  TempDir tmp("dataset");
  const std::string images = tmp.file("t10k-images-idx3-ubyte.gz");
  write_gzip(tmp.file("t10k-labels-idx1-ubyte.gz"), idx_bytes({1}, {0}));
  lmask::testing::FifoGuard guard(images);
  REQUIRE(guard.made());
  CHECK(guard.error_of([&] { open_dataset("fmnist:test:" + tmp.path.string(), meta_for(28)); }) ==
        images + ": is a FIFO (named pipe), not a regular file");
  CHECK_FALSE(guard.blocked());
}

TEST_CASE("dataset: a symlink loop in an ImageFolder tree is an InputError naming it") {
  TempDir tmp("dataset");
  fs::create_directories(tmp.path / "root" / "cls");
  write_picture(tmp.file("root/cls/a.png"), 8, 8, 1);
  SUBCASE("as a class") {
    fs::create_symlink("loop", tmp.path / "root" / "loop");
    CHECK(error_of([&] { open_dataset("folder:" + tmp.file("root"), meta_for(8)); }) ==
          tmp.file("root/loop") + ": cannot tell what it is (Too many levels of symbolic links)");
  }
  SUBCASE("as an image") {
    fs::create_symlink("b.png", tmp.path / "root" / "cls" / "b.png");
    CHECK(error_of([&] { open_dataset("folder:" + tmp.file("root"), meta_for(8)); }) ==
          tmp.file("root/cls/b.png") + ": cannot tell what it is (Too many levels of symbolic links)");
  }
  SUBCASE("as the root and the mask root") {
    fs::create_symlink("self", tmp.path / "self");
    CHECK(error_of([&] { open_dataset("folder:" + tmp.file("self"), meta_for(8)); }) ==
          tmp.file("self") + ": cannot tell what it is (Too many levels of symbolic links)");
    CHECK(error_of([&] { open_dataset("folder:" + tmp.file("root") + ",masks=" + tmp.file("self"), meta_for(8)); }) ==
          tmp.file("self") + ": cannot tell what it is (Too many levels of symbolic links)");
  }
}

TEST_CASE("dataset: a Fashion-MNIST split with no images is refused") {
  TempDir tmp("dataset");
  write_gzip(tmp.file("t10k-images-idx3-ubyte.gz"), idx_bytes({0, 28, 28}, {}));
  write_gzip(tmp.file("t10k-labels-idx1-ubyte.gz"), idx_bytes({0}, {}));
  CHECK(error_of([&] { open_dataset("fmnist:test:" + tmp.path.string(), meta_for(28)); }) ==
        tmp.file("t10k-images-idx3-ubyte.gz") + ": holds no images");
}

TEST_CASE("dataset: an unreadable image mid-run stops the batch, or is skipped and reported") {
  TempDir tmp("dataset");
  fs::create_directories(tmp.path / "root" / "a");
  write_picture(tmp.file("root/a/0.png"), 8, 8, 10);
  std::ofstream(tmp.file("root/a/1.png")) << "not a picture";  // listed (by its name), unreadable
  write_picture(tmp.file("root/a/2.png"), 8, 8, 30);
  const auto data = open_dataset("folder:" + tmp.file("root"), meta_for(8));
  REQUIRE(data->size() == 3);

  std::vector<std::string> skipped;
  CHECK(error_of([&] { load_batch(*data, 0, 3, BadFilePolicy::stop, skipped); })
            .rfind(tmp.file("root/a/1.png") + ": not a PNG or JPEG", 0) == 0);
  CHECK(skipped.empty());

  const Batch b = load_batch(*data, 0, 3, BadFilePolicy::skip, skipped);
  CHECK(b.size() == 2);
  CHECK(b.indices == std::vector<std::size_t>{0, 2});
  CHECK(b.images01.n() == 2);
  CHECK(b.images01.image(1)[0] == doctest::Approx(30 / 255.0));
  REQUIRE(skipped.size() == 1);
  CHECK(skipped[0].rfind(tmp.file("root/a/1.png") + ": ", 0) == 0);

  // A batch of bad files only comes back empty, not as an error.
  skipped.clear();
  CHECK(load_batch(*data, 1, 1, BadFilePolicy::skip, skipped).size() == 0);
  CHECK(skipped.size() == 1);

  CHECK(parse_bad_file_policy("skip") == BadFilePolicy::skip);
  CHECK(error_of([] { parse_bad_file_policy("ignore"); }) == "--on-bad-file: 'ignore' is not stop or skip");
}

TEST_CASE("dataset: an idx header claiming 2^30 values over a few bytes allocates no gigabyte") {
  // Found by fuzzing: the reader used to size its buffer from the header.
  TempDir tmp("dataset");
  const std::string path = tmp.file("claims.idx");
  write_plain(path, idx_bytes({1024, 1024, 1024}, counting(10)));
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  CHECK(error_of([&] { read_idx(path); }) ==
        path + ": truncated: the data ends after 10 of 1073741824 bytes");
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  CHECK(after.ru_maxrss - before.ru_maxrss < 200 * 1024);  // kilobytes
}
