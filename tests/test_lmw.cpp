// test_lmw.cpp — the flat weight format (lmw.h, docs/lmw-format.md): round
// trips, its number formats, `lmask export` / `lmask plan`, and a refusal
// with a clear one-line error for every kind of damaged file, read from a
// buffer of exactly the file's size (so ASan sees any read past it).
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "golden.h"
#include "lmask/error.h"
#include "lmask/lmw.h"
#include "lmask/model.h"
#include "reference_ops.h"
#include "temp_dir.h"

using namespace lmask;
using lmask::testing::golden_path;
using lmask::testing::random_tensor;
using lmask::testing::TempDir;

using lmask::testing::slurp;

namespace {

// Three small tensors; table order is name order: a.bias, a.weight, fc.weight.
Weights small_weights() {
  Weights w;
  w.path = "memory";
  w.arch = "resnet18";
  w.num_classes = 10;
  w.class_names = {"zero", "one"};
  w.params.emplace("a.bias", random_tensor({1, 4, 1, 1}, 1));
  w.dims["a.bias"] = {4};
  w.params.emplace("a.weight", random_tensor({4, 3, 3, 3}, 2));
  w.dims["a.weight"] = {4, 3, 3, 3};
  w.params.emplace("fc.weight", random_tensor({10, 4, 1, 1}, 3));
  w.dims["fc.weight"] = {10, 4};
  return w;
}

std::size_t entry(int i) { return kLmwHeaderBytes + std::size_t(i) * kLmwEntryBytes; }
void put_u32(std::string& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<char>(v >> (8 * i));
}
void put_u64(std::string& b, std::size_t at, std::uint64_t v) {
  put_u32(b, at, static_cast<std::uint32_t>(v));
  put_u32(b, at + 4, static_cast<std::uint32_t>(v >> 32));
}
// A damaged file with a valid checksum, so the damage itself is what is caught.
void reseal(std::string& b) {
  put_u32(b, 12, crc32(reinterpret_cast<const std::uint8_t*>(b.data()) + 16, b.size() - 16));
}

// The error reading `bytes` gives ("" when it reads), from an exact-size copy.
std::string error_of(const std::string& bytes) {
  const std::vector<std::uint8_t> exact(bytes.begin(), bytes.end());
  try {
    read_lmw_weights(exact.data(), exact.size(), "model.lmw");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

void check_refused(const std::string& bytes, const std::string& problem) {
  const std::string e = error_of(bytes);
  CAPTURE(e);
  CHECK(e.rfind("model.lmw: ", 0) == 0);
  CHECK(e.find(problem) != std::string::npos);
  CHECK(e.find('\n') == std::string::npos);
}

}  // namespace

TEST_CASE("lmw: CRC-32 is the IEEE one and half precision round-trips every half") {
  const char* check = "123456789";
  CHECK(crc32(reinterpret_cast<const std::uint8_t*>(check), 9) == 0xCBF43926u);
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    const bool nan = (h & 0x7C00) == 0x7C00 && (h & 0x3FF);
    if (!nan) REQUIRE(float_to_half(half_to_float(static_cast<std::uint16_t>(h))) == h);
  }
  CHECK(float_to_half(1.f) == 0x3C00);
  CHECK(float_to_half(-2.f) == 0xC000);
  CHECK(float_to_half(65504.f) == 0x7BFF);
  CHECK(float_to_half(65520.f) == 0x7C00);             // rounds up to Inf
  CHECK(float_to_half(0.1f) == 0x2E66);
  CHECK(float_to_half(std::ldexp(1.f, -24)) == 0x0001);  // the smallest subnormal
  CHECK(float_to_half(std::ldexp(1.f, -26)) == 0x0000);  // below half of it
  CHECK(float_to_half(1.f + std::ldexp(1.f, -11)) == 0x3C00);  // a tie rounds to even
  CHECK(std::isnan(half_to_float(float_to_half(NAN))));
}

TEST_CASE("lmw: the golden weights round-trip exactly as f32 and build the same model") {
  const Weights w = load_weights(golden_path("resnet50_random.h5"));
  const std::string bytes = write_lmw(w, LmwDType::f32);
  const Weights r = read_lmw_weights(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), "m.lmw");
  CHECK(r.arch == w.arch);
  CHECK(r.num_classes == w.num_classes);
  CHECK(r.input_size == w.input_size);
  CHECK(r.resize_size == w.resize_size);
  CHECK(r.mean == w.mean);
  CHECK(r.std == w.std);
  CHECK(r.class_names == w.class_names);
  REQUIRE(r.params.size() == w.params.size());
  CHECK(r.dims == w.dims);
  for (const auto& [name, t] : w.params) {
    CAPTURE(name);
    CHECK(std::memcmp(r.params.at(name).data(), t.data(), t.numel() * sizeof(float)) == 0);
  }
  const Tensor x = random_tensor({1, 3, 64, 48}, 7);
  CHECK(max_abs_diff(Model::from_weights(r).forward(x), Model::from_weights(w).forward(x)) == 0.f);
}

TEST_CASE("lmw: f16 and int8 store conv and fc weights compressed, BatchNorm and biases as f32") {
  const Weights w = small_weights();
  const std::string f32 = write_lmw(w, LmwDType::f32), f16 = write_lmw(w, LmwDType::f16),
                    i8 = write_lmw(w, LmwDType::int8);
  CHECK(f16.size() < f32.size());
  for (const std::string* bytes : {&f16, &i8}) {
    const LmwFile f = parse_lmw(reinterpret_cast<const std::uint8_t*>(bytes->data()), bytes->size(), "m.lmw");
    const Weights r = lmw_weights(f, "m.lmw");
    CHECK(f.tensors[0].dtype == LmwDType::f32);  // a.bias, rank 1
    const Tensor& bias = w.params.at("a.bias");
    CHECK(std::memcmp(r.params.at("a.bias").data(), bias.data(), 4 * sizeof(float)) == 0);
    for (const char* name : {"a.weight", "fc.weight"}) {
      const Tensor& want = w.params.at(name);
      const Tensor& got = r.params.at(name);
      const int rows = want.n();
      const std::size_t per_row = want.numel() / rows;
      for (int o = 0; o < rows; ++o) {
        float row_max = 0.f;
        for (std::size_t j = 0; j < per_row; ++j) row_max = std::max(row_max, std::fabs(want.data()[o * per_row + j]));
        for (std::size_t j = 0; j < per_row; ++j) {
          const float a = want.data()[o * per_row + j], b = got.data()[o * per_row + j];
          if (bytes == &f16) CHECK(b == half_to_float(float_to_half(a)));
          else CHECK(std::fabs(a - b) <= row_max / 127.f * 0.5f + 1e-7f);
        }
      }
    }
  }
}

TEST_CASE("lmw: damaged files are refused with one clear line, never read out of bounds") {
  const std::string good = write_lmw(small_weights(), LmwDType::f32);
  REQUIRE(error_of(good).empty());
  const std::uint64_t size = good.size();

  SUBCASE("bad magic") {
    std::string b = good;
    b[0] = 'X';
    check_refused(b, "bad magic");
    check_refused("GIF89a" + std::string(200, '\0'), "bad magic");
  }
  SUBCASE("wrong version") {
    std::string b = good;
    put_u32(b, 8, 2);
    check_refused(b, "format version 2, this lmask reads version 1");
  }
  SUBCASE("truncated, at every kind of place") {
    for (std::size_t n : {std::size_t(0), std::size_t(7), std::size_t(127), std::size_t(128), entry(1) + 5,
                          good.size() / 2, good.size() - 1}) {
      CAPTURE(n);
      check_refused(good.substr(0, n), "truncated");
    }
  }
  SUBCASE("trailing data") { check_refused(good + std::string(64, '\0'), "bytes of trailing data"); }
  SUBCASE("CRC mismatch: one flipped bit in the payload, the table or the header") {
    for (std::size_t at : {good.size() - 1, entry(2) + 72, std::size_t(28)}) {
      std::string b = good;
      b[at] = static_cast<char>(b[at] ^ 0x10);
      check_refused(b, "checksum mismatch");
    }
  }
  SUBCASE("offsets out of range") {
    for (std::uint64_t offset : {size + 64, std::uint64_t(1) << 63, ~std::uint64_t(0) - 63, std::uint64_t(0),
                                 size - 64}) {
      CAPTURE(offset);
      std::string b = good;
      put_u64(b, entry(2) + 88, offset);
      reseal(b);
      check_refused(b, "out of range");
    }
    std::string misaligned = good;  // inside the file, but not on a 64-byte boundary
    std::uint64_t offset = 0;
    for (int i = 7; i >= 0; --i) offset = offset << 8 | static_cast<unsigned char>(good[entry(1) + 88 + i]);
    put_u64(misaligned, entry(1) + 88, offset + 4);
    reseal(misaligned);
    check_refused(misaligned, "out of range");
  }
  SUBCASE("a payload size that does not match the shape") {
    std::string b = good;
    put_u64(b, entry(1) + 96, 4 * 108 + 4);
    reseal(b);
    check_refused(b, "payload bytes, expected 432");
  }
  SUBCASE("regions out of range, too many tensors") {
    std::string b = good;
    put_u64(b, 120, size + 64);  // payload after the end
    reseal(b);
    check_refused(b, "regions out of range");
    b = good;
    put_u32(b, 112, 1u << 30);  // class names past the payload
    reseal(b);
    check_refused(b, "regions out of range");
    b = good;
    put_u32(b, 24, 1u << 20);
    reseal(b);
    check_refused(b, "tensors declared");
    b = good;
    put_u32(b, 24, 200);  // a table longer than the room before the payload
    reseal(b);
    check_refused(b, "regions out of range");
  }
  SUBCASE("bad table entries: dtype, rank, dimensions, names") {
    std::string b = good;
    put_u32(b, entry(0) + 64, 7);
    reseal(b);
    check_refused(b, "unknown dtype 7");
    for (std::uint32_t rank : {0u, 5u}) {
      b = good;
      put_u32(b, entry(0) + 68, rank);
      reseal(b);
      check_refused(b, "rank " + std::to_string(rank));
    }
    b = good;
    put_u32(b, entry(1) + 72, 0);
    reseal(b);
    check_refused(b, "dimension 0 is 0");
    b = good;  // 65536^3 values: refused from the shape, before any arithmetic overflows
    for (int d = 0; d < 3; ++d) put_u32(b, entry(1) + 72 + 4 * d, 65536);
    reseal(b);
    check_refused(b, "at most 268435456 values");
    b = good;
    std::memset(&b[entry(0)], 'a', kLmwNameBytes);
    reseal(b);
    check_refused(b, "name is not NUL-terminated");
    b = good;
    std::memcpy(&b[entry(1)], &b[entry(0)], kLmwNameBytes);
    reseal(b);
    check_refused(b, "repeated name");
  }
  SUBCASE("values and attributes") {
    std::string b = good;
    const float nan = NAN;
    std::memcpy(&b[good.size() - 4], &nan, 4);
    reseal(b);
    check_refused(b, "holds NaN or Inf");
    b = good;
    put_u32(b, 28, 0);
    reseal(b);
    check_refused(b, "num_classes is 0");
    b = good;
    std::memset(&b[64], 'r', 32);
    reseal(b);
    check_refused(b, "architecture name is not NUL-terminated");
  }
}

TEST_CASE("lmw: lmask export writes a file that loads, lmask plan prints the memory plan, bad files are one line") {
  TempDir tmp("lmw_cli");
  auto run = [&](const std::string& args, std::string* err = nullptr) {
    const std::string cmd = "OMP_NUM_THREADS=1 " + std::string(LMASK_CLI) + " " + args + " >" + tmp.file("out") +
                            " 2>" + tmp.file("err");
    const int raw = std::system(cmd.c_str());
    if (err) *err = slurp(tmp.file("err"));
    return WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  };
  const std::string lmw = tmp.file("m.lmw");
  REQUIRE(run("export --weights " + golden_path("resnet50_random.h5") + " --out " + lmw + " --dtype f16") == 0);
  const std::string bytes = slurp(lmw);
  CHECK(bytes.size() < 60u * 1000 * 1000);  // half of the 102 MB of float32
  CHECK(error_of(bytes).find("model.lmw") == std::string::npos);  // reads
  REQUIRE(run("plan --weights " + lmw + " --input 224x224") == 0);
  const std::string plan = slurp(tmp.file("out"));
  CAPTURE(plan);
  CHECK(plan.find("arena:") != std::string::npos);
  CHECK(plan.find("peak:") != std::string::npos);

  std::string err;
  std::string damaged = bytes;
  damaged[damaged.size() / 2] ^= 1;
  std::ofstream(tmp.file("bad.lmw"), std::ios::binary) << damaged;
  CHECK(run("plan --weights " + tmp.file("bad.lmw"), &err) == 2);
  CHECK(err == "lmask: error: " + tmp.file("bad.lmw") + ": " + error_of(damaged).substr(11) + "\n");
  CHECK(run("plan --weights " + lmw + " --input 0x9", &err) == 2);
  CHECK(err.rfind("lmask: error: --input: ", 0) == 0);
  CHECK(run("export --weights " + tmp.file("missing.h5") + " --out " + tmp.file("x.lmw"), &err) == 2);
  CHECK(!std::ifstream(tmp.file("x.lmw")));  // nothing half-written
}
