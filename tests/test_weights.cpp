// test_weights.cpp — the HDF5 weight loader on good and bad files.
//
// Every refusal must be an lmask::InputError whose one-line message names the
// file and the problem (the key, the expected and the found shape), since
// that line is all a CLI user sees. Test files are written here with the
// HDF5 C API (no Python needed) into a per-process temporary folder that is
// removed afterwards; the golden weights are only read, never copied whole.
#include <doctest/doctest.h>
#include <hdf5.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "fifo_guard.h"
#include "golden.h"
#include "temp_dir.h"
#include "lmask/error.h"
#include "lmask/model.h"
#include "lmask/resnet.h"
#include "lmask/weights.h"

using namespace lmask;
using lmask::testing::TempDir;
namespace fs = std::filesystem;

namespace {

// IEEE half precision as a file type: HDF5 1.10 predefines none, so build it
// from float32 the way h5py does (sign bit 15, exponent 10..14, mantissa 0..9).
hid_t make_f16_type() {
  hid_t t = H5Tcopy(H5T_IEEE_F32LE);
  H5Tset_fields(t, 15, 10, 5, 0, 10);
  H5Tset_size(t, 2);
  H5Tset_ebias(t, 15);
  return t;
}

// Writes a new HDF5 file. Data always comes from native float/double/int
// buffers; HDF5 converts to the requested file type, as a converter would.
class H5Writer {
 public:
  explicit H5Writer(const std::string& path) {
    file_ = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE_MESSAGE(file_ >= 0, "cannot create test file " << path);
  }
  ~H5Writer() { H5Fclose(file_); }
  H5Writer(const H5Writer&) = delete;
  H5Writer& operator=(const H5Writer&) = delete;

  // A dataset of `file_type` holding `data` (row-major, dims' product long).
  void floats(const std::string& name, const std::vector<hsize_t>& dims, const std::vector<float>& data,
              hid_t file_type = H5T_IEEE_F32LE) {
    write(name, dims, file_type, H5T_NATIVE_FLOAT, data.data(), H5P_DEFAULT);
  }
  void doubles(const std::string& name, const std::vector<hsize_t>& dims,
               const std::vector<double>& data) {
    write(name, dims, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, data.data(), H5P_DEFAULT);
  }
  // A scalar int64, like PyTorch's num_batches_tracked.
  void int64_scalar(const std::string& name, long long value) {
    write(name, {}, H5T_STD_I64LE, H5T_NATIVE_LLONG, &value, H5P_DEFAULT);
  }
  // A float32 dataset that is never written: storage is not even allocated,
  // so the file holds a shape and no values.
  void unwritten(const std::string& name, const std::vector<hsize_t>& dims) {
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_LATE);
    write(name, dims, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, nullptr, dcpl);
    H5Pclose(dcpl);
  }
  // `value` everywhere, deflate-compressed in one chunk: a ResNet-50-shaped
  // file of these is a few hundred kB.
  void constant(const std::string& name, const std::vector<hsize_t>& dims, float value) {
    hsize_t count = 1;
    for (hsize_t d : dims) count *= d;
    const std::vector<float> data(count, value);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, int(dims.size()), dims.data());
    H5Pset_deflate(dcpl, 1);
    write(name, dims, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, data.data(), dcpl);
    H5Pclose(dcpl);
  }
  // [n] float32, deflate-compressed in chunks of 1024 of which only the
  // first is written: the rest are declared and not stored.
  void compressed_first_chunk_only(const std::string& name, hsize_t n) {
    const hsize_t chunk = 1024;
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 1, &chunk);
    H5Pset_deflate(dcpl, 1);
    hid_t space = H5Screate_simple(1, &n, nullptr);
    hid_t d = H5Dcreate2(file_, name.c_str(), H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    REQUIRE_MESSAGE(d >= 0, "cannot create dataset " << name);
    const hsize_t start = 0;
    H5Sselect_hyperslab(space, H5S_SELECT_SET, &start, nullptr, &chunk, nullptr);
    hid_t mem = H5Screate_simple(1, &chunk, nullptr);
    const std::vector<float> data(chunk, 0.5f);
    REQUIRE(H5Dwrite(d, H5T_NATIVE_FLOAT, mem, space, H5P_DEFAULT, data.data()) >= 0);
    H5Sclose(mem);
    H5Dclose(d);
    H5Sclose(space);
    H5Pclose(dcpl);
  }
  // [n] float32 whose values HDF5 would read from `other` (external storage).
  void external_storage(const std::string& name, hsize_t n, const std::string& other) {
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    REQUIRE(H5Pset_external(dcpl, other.c_str(), 0, n * 4) >= 0);
    write(name, {n}, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, nullptr, dcpl);
    H5Pclose(dcpl);
  }
  // [n] float32 mapped from dataset `source` of file `other` (a virtual dataset).
  void virtual_of(const std::string& name, hsize_t n, const std::string& other, const std::string& source) {
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t space = H5Screate_simple(1, &n, nullptr);
    REQUIRE(H5Pset_virtual(dcpl, space, other.c_str(), source.c_str(), space) >= 0);
    write(name, {n}, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, nullptr, dcpl);
    H5Sclose(space);
    H5Pclose(dcpl);
  }
  // A link `name` to object `object` of file `other`.
  void external_link(const std::string& name, const std::string& other, const std::string& object) {
    REQUIRE(H5Lcreate_external(other.c_str(), object.c_str(), file_, name.c_str(), H5P_DEFAULT, H5P_DEFAULT) >= 0);
  }

  void attr_string(const std::string& name, const std::string& value, bool variable_length = true) {
    hid_t type = H5Tcopy(H5T_C_S1);
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t attr;
    if (variable_length) {  // what h5py writes for a Python str
      H5Tset_size(type, H5T_VARIABLE);
      H5Tset_cset(type, H5T_CSET_UTF8);
      attr = H5Acreate2(file_, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT);
      const char* v = value.c_str();
      H5Awrite(attr, type, &v);
    } else {  // numpy bytes: fixed length, no terminator
      H5Tset_size(type, value.size());
      H5Tset_strpad(type, H5T_STR_NULLPAD);
      attr = H5Acreate2(file_, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT);
      H5Awrite(attr, type, value.data());
    }
    H5Aclose(attr);
    H5Sclose(space);
    H5Tclose(type);
  }
  void attr_strings(const std::string& name, const std::vector<std::string>& values) {
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    const hsize_t n = values.size();
    hid_t space = H5Screate_simple(1, &n, nullptr);
    hid_t attr = H5Acreate2(file_, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT);
    std::vector<const char*> ptrs;
    for (const auto& v : values) ptrs.push_back(v.c_str());
    H5Awrite(attr, type, ptrs.data());
    H5Aclose(attr);
    H5Sclose(space);
    H5Tclose(type);
  }
  void attr_int(const std::string& name, long long value) {
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t attr = H5Acreate2(file_, name.c_str(), H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(attr, H5T_NATIVE_LLONG, &value);
    H5Aclose(attr);
    H5Sclose(space);
  }
  void attr_doubles(const std::string& name, const std::vector<double>& values) {
    const hsize_t n = values.size();
    hid_t space = H5Screate_simple(1, &n, nullptr);
    hid_t attr = H5Acreate2(file_, name.c_str(), H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(attr, H5T_NATIVE_DOUBLE, values.data());
    H5Aclose(attr);
    H5Sclose(space);
  }

 private:
  void write(const std::string& name, const std::vector<hsize_t>& dims, hid_t file_type,
             hid_t mem_type, const void* data, hid_t dcpl) {
    hid_t space = dims.empty() ? H5Screate(H5S_SCALAR)
                               : H5Screate_simple(int(dims.size()), dims.data(), nullptr);
    hid_t d = H5Dcreate2(file_, name.c_str(), file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    REQUIRE_MESSAGE(d >= 0, "cannot create dataset " << name);
    if (data) REQUIRE_MESSAGE(H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0,
                              "cannot write dataset " << name);
    H5Dclose(d);
    H5Sclose(space);
  }

  hid_t file_ = -1;
};

// The size in bytes of one element of `dataset` as stored, to prove a test
// file really holds float16 (or float64) and not float32.
std::size_t stored_element_size(const std::string& path, const std::string& dataset) {
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t d = H5Dopen2(f, dataset.c_str(), H5P_DEFAULT);
  hid_t t = H5Dget_type(d);
  const std::size_t size = H5Tget_size(t);
  H5Tclose(t);
  H5Dclose(d);
  H5Fclose(f);
  return size;
}

// Runs `f`, which must throw InputError, and returns the message ("" and a
// failed check if it throws something else or nothing).
template <typename F>
std::string input_error_of(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL_CHECK("expected lmask::InputError, got another exception: " << e.what());
    return "";
  }
  FAIL_CHECK("expected lmask::InputError, nothing was thrown");
  return "";
}

// Checks that `message` contains every one of `parts`, printing it if not.
void check_mentions(const std::string& message, const std::vector<std::string>& parts) {
  CAPTURE(message);
  for (const std::string& part : parts) {
    CAPTURE(part);
    CHECK(message.find(part) != std::string::npos);
  }
}

// ---- a torchvision ResNet's state_dict, derived from its naming ----------

struct Param {
  std::string key;
  std::vector<hsize_t> dims;  // empty: a scalar num_batches_tracked
};

// conv `conv`.weight [out,in,k,k] followed by BatchNorm `bn` over `out`.
void add_conv_bn(std::vector<Param>& ps, const std::string& conv, const std::string& bn,
                 hsize_t out, hsize_t in, hsize_t k) {
  ps.push_back({conv + ".weight", {out, in, k, k}});
  for (const char* field : {".weight", ".bias", ".running_mean", ".running_var"})
    ps.push_back({bn + field, {out}});
  ps.push_back({bn + ".num_batches_tracked", {}});
}

// Every key of torchvision's resnet18 (basic blocks) or resnet50 (bottleneck).
std::vector<Param> resnet_params(bool bottleneck, int num_classes) {
  const std::array<int, 4> blocks = bottleneck ? std::array<int, 4>{3, 4, 6, 3}
                                               : std::array<int, 4>{2, 2, 2, 2};
  const hsize_t expansion = bottleneck ? 4 : 1;
  std::vector<Param> ps;
  add_conv_bn(ps, "conv1", "bn1", 64, 3, 7);
  hsize_t in = 64;
  for (int stage = 0; stage < 4; ++stage) {
    const hsize_t planes = hsize_t(64) << stage;
    for (int b = 0; b < blocks[stage]; ++b) {
      const std::string k = "layer" + std::to_string(stage + 1) + "." + std::to_string(b) + ".";
      const bool strided = stage > 0 && b == 0;
      if (bottleneck) {
        add_conv_bn(ps, k + "conv1", k + "bn1", planes, in, 1);
        add_conv_bn(ps, k + "conv2", k + "bn2", planes, planes, 3);
        add_conv_bn(ps, k + "conv3", k + "bn3", planes * expansion, planes, 1);
      } else {
        add_conv_bn(ps, k + "conv1", k + "bn1", planes, in, 3);
        add_conv_bn(ps, k + "conv2", k + "bn2", planes, planes, 3);
      }
      if (strided || in != planes * expansion)
        add_conv_bn(ps, k + "downsample.0", k + "downsample.1", planes * expansion, in, 1);
      in = planes * expansion;
    }
  }
  ps.push_back({"fc.weight", {hsize_t(num_classes), 512 * expansion}});
  ps.push_back({"fc.bias", {hsize_t(num_classes)}});
  return ps;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Random values that keep activations O(1) through the network: He-uniform
// conv/fc weights, BatchNorm near identity with a safely positive variance.
std::vector<float> plausible_values(const Param& p, std::mt19937& rng) {
  hsize_t count = 1, fan_in = 1;
  for (std::size_t i = 0; i < p.dims.size(); ++i) {
    count *= p.dims[i];
    if (i > 0) fan_in *= p.dims[i];
  }
  float lo = -0.1f, hi = 0.1f;  // bias, running_mean
  if (ends_with(p.key, "running_var")) lo = 0.5f, hi = 1.5f;
  else if (p.dims.size() == 1 && ends_with(p.key, ".weight")) lo = 0.5f, hi = 1.f;  // gamma
  else if (p.dims.size() > 1) hi = float(std::sqrt(6.0 / double(fan_in))), lo = -hi;
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(count);
  for (float& x : v) x = dist(rng);
  return v;
}

// How to spoil an otherwise valid ResNet file.
struct Corruption {
  std::string drop;                    // key left out
  std::string reshape;                 // key written with `new_dims` instead
  std::vector<hsize_t> new_dims;
  std::string poison;                  // key whose last element is NaN
  std::string negate;                  // key whose last element is -0.5
};

// Writes a ResNet file with root attributes arch/num_classes. Random values,
// or (`cheap`) unwritten datasets that read as 0.01: enough for the loader,
// which refuses a corrupt file before it computes anything.
void write_resnet(const std::string& path, const std::string& arch, int num_classes,
                  const Corruption& bad = {}, bool cheap = false) {
  H5Writer w(path);
  w.attr_string("arch", arch);
  w.attr_int("num_classes", num_classes);
  std::mt19937 rng(1234);
  for (Param p : resnet_params(arch == "resnet50", num_classes)) {
    if (p.key == bad.drop) continue;
    if (p.key == bad.reshape) p.dims = bad.new_dims;
    if (p.dims.empty()) {
      w.int64_scalar(p.key, 1000);
    } else if (p.key == bad.poison || p.key == bad.negate) {
      std::vector<float> v = plausible_values(p, rng);
      v.back() = p.key == bad.poison ? std::numeric_limits<float>::quiet_NaN() : -0.5f;
      w.floats(p.key, p.dims, v);
    } else if (cheap) {
      w.constant(p.key, p.dims, ends_with(p.key, "running_var") ? 1.f : 0.01f);
    } else {
      w.floats(p.key, p.dims, plausible_values(p, rng));
    }
  }
}

// The intact random ResNet-18 (10 classes), written once per process.
const std::string& resnet18_file() {
  static TempDir dir("weights");
  static const std::string path = [] {
    std::string p = dir.file("resnet18_ok.h5");
    write_resnet(p, "resnet18", 10);
    return p;
  }();
  return path;
}

}  // namespace

// ---- files that are not weight files at all ------------------------------

TEST_CASE("weights: a missing file is an InputError naming it") {
  TempDir dir("weights");
  const std::string path = dir.file("no_such_weights.h5");
  const std::string msg = input_error_of([&] { load_weights(path); });
  CHECK(msg == path + ": no such file");
  // The whole-model entry point reports the same way.
  CHECK(input_error_of([&] { ResNet::load(path); }) == msg);
}

TEST_CASE("weights: a FIFO given as the weight file is refused at once, not waited on") {
  TempDir dir("weights");
  const std::string fifo = dir.file("weights.h5");
  lmask::testing::FifoGuard guard(fifo);
  REQUIRE(guard.made());
  CHECK(guard.error_of([&] { load_weights(fifo); }) == fifo + ": is a FIFO (named pipe), not a regular file");
  CHECK_FALSE(guard.blocked());
}

TEST_CASE("weights: a file of garbage bytes is not HDF5") {
  TempDir dir("weights");
  const std::string path = dir.file("garbage.h5");
  {
    std::ofstream out(path, std::ios::binary);
    std::mt19937 rng(7);
    for (int i = 0; i < 4096; ++i) out.put(static_cast<char>(rng() & 0xff));
  }
  check_mentions(input_error_of([&] { load_weights(path); }), {path, "not an HDF5 file"});
  // An empty file, too.
  const std::string empty = dir.file("empty.h5");
  std::ofstream(empty, std::ios::binary).close();
  check_mentions(input_error_of([&] { load_weights(empty); }), {empty, "not an HDF5 file"});
}

TEST_CASE("weights: a truncated copy of a real weight file is refused") {
  const std::string golden = lmask::testing::golden_path("resnet50_random.h5");
  TempDir dir("weights");
  for (std::size_t keep : {std::size_t(4096), std::size_t(1) << 20}) {
    CAPTURE(keep);
    const std::string path = dir.file("truncated_" + std::to_string(keep) + ".h5");
    {
      std::ifstream in(golden, std::ios::binary);
      std::vector<char> head(keep);
      in.read(head.data(), std::streamsize(keep));
      REQUIRE(std::size_t(in.gcount()) == keep);
      std::ofstream(path, std::ios::binary).write(head.data(), std::streamsize(keep));
    }
    const std::string msg = input_error_of([&] { load_weights(path); });
    check_mentions(msg, {path});
    const bool says_why = msg.find("truncated") != std::string::npos ||
                          msg.find("corrupt") != std::string::npos;
    CAPTURE(msg);
    CHECK(says_why);
  }
}

TEST_CASE("weights: a file without any weight dataset is refused") {
  TempDir dir("weights");
  const std::string path = dir.file("no_datasets.h5");
  {
    H5Writer w(path);
    w.attr_string("arch", "resnet18");
    w.int64_scalar("bn1.num_batches_tracked", 3);  // ignored, so nothing is left
  }
  check_mentions(input_error_of([&] { load_weights(path); }), {path, "no weight datasets"});
}

TEST_CASE("weights: a file whose graph description needs no weights loads without datasets, and runs") {
  TempDir dir("weights");
  const std::string path = dir.file("weightless.h5");
  {
    H5Writer w(path);
    w.attr_string("arch", "onnx");
    w.attr_int("num_classes", 2);
    w.attr_int("input_size", 4);
    w.attr_string("lmask_graph",
                  "{\"format\":\"lmask-graph\",\"version\":1,\"in_channels\":2,\"nodes\":["
                  "{\"op\":\"input\",\"name\":\"\",\"inputs\":[]},"
                  "{\"op\":\"activation\",\"name\":\"act\",\"inputs\":[0],\"kind\":\"relu\"},"
                  "{\"op\":\"global_avgpool\",\"name\":\"pool\",\"inputs\":[1]}"
                  "],\"output\":2,\"features\":2,\"stages\":[]}");
  }
  const Weights weights = load_weights(path);
  CHECK(weights.params.empty());
  const Model model = Model::load(path);
  Tensor x({1, 2, 4, 4});
  for (std::size_t i = 0; i < x.numel(); ++i) x.data()[i] = float(i % 5) - 2.f;  // relu keeps 0, 1, 2
  const Tensor y = model.forward(x);
  REQUIRE(y.shape() == Shape{1, 2, 1, 1});
  float want[2] = {0, 0};
  for (int c = 0; c < 2; ++c)
    for (int i = 0; i < 16; ++i) want[c] += std::max(0.f, x.data()[c * 16 + i]) / 16.f;
  CHECK(y.data()[0] == doctest::Approx(want[0]));
  CHECK(y.data()[1] == doctest::Approx(want[1]));
}

// ---- bad contents ---------------------------------------------------------

TEST_CASE("weights: NaN or Inf in a weight is refused, naming the key") {
  TempDir dir("weights");
  const float bad_values[] = {std::numeric_limits<float>::quiet_NaN(),
                              std::numeric_limits<float>::infinity(),
                              -std::numeric_limits<float>::infinity()};
  for (float bad : bad_values) {
    CAPTURE(bad);
    const std::string path = dir.file("nonfinite.h5");
    {
      H5Writer w(path);
      w.floats("bn1.weight", {4}, {1.f, 2.f, 3.f, 4.f});
      std::vector<float> v(5 * 7, 0.5f);
      v[33] = bad;  // near the end: the whole dataset must be scanned
      w.floats("fc.weight", {5, 7}, v);
    }
    check_mentions(input_error_of([&] { load_weights(path); }), {path, "'fc.weight'", "NaN"});
  }
}

TEST_CASE("weights: a dataset of unsupported rank is refused") {
  TempDir dir("weights");
  const std::string path = dir.file("rank3.h5");
  {
    H5Writer w(path);
    w.floats("conv1.weight", {2, 3, 4}, std::vector<float>(24, 0.f));
  }
  check_mentions(input_error_of([&] { load_weights(path); }), {path, "'conv1.weight'", "rank 3"});
}

// ---- what a good file may hold ---------------------------------------------

TEST_CASE("weights: float16 and float64 datasets load converted to float32") {
  TempDir dir("weights");
  const std::string path = dir.file("mixed_types.h5");
  // Each half value is exactly representable: 0.0999755859375 is the half
  // nearest 0.1, 65504 the largest half, 2^-14 the smallest normal, 2^-24
  // the smallest subnormal.
  const std::vector<float> halves = {0.5f,      -1.25f,           3.f,          0.0999755859375f,
                                     65504.f,   -6.103515625e-5f, 5.96046448e-8f, 1023.5f,
                                     0.f,       -2.f,             0.333251953125f, 7.f};
  // Doubles that float32 cannot hold exactly: the loader must round each to
  // the nearest float.
  const std::vector<double> doubles = {0.1, -1.0 / 3.0, 1e-30, 123456.789, 2.0, -0.0};
  hid_t f16 = make_f16_type();
  {
    H5Writer w(path);
    w.floats("layer1.0.conv1.weight", {3, 1, 2, 2}, halves, f16);  // rank 4, [O,I,K,K]
    w.doubles("fc.bias", {6}, doubles);
    w.attr_int("num_classes", 6);
  }
  H5Tclose(f16);
  REQUIRE(stored_element_size(path, "layer1.0.conv1.weight") == 2);
  REQUIRE(stored_element_size(path, "fc.bias") == 8);

  const Weights w = load_weights(path);
  const Tensor& conv = w.get("layer1.0.conv1.weight", {3, 1, 2, 2});
  CHECK(conv.shape() == Shape{3, 1, 2, 2});
  for (std::size_t i = 0; i < halves.size(); ++i) {
    CAPTURE(i);
    CHECK(conv.data()[i] == halves[i]);
  }
  const Tensor& bias = w.get("fc.bias", {6});
  CHECK(bias.shape() == Shape{1, 6, 1, 1});
  for (std::size_t i = 0; i < doubles.size(); ++i) {
    CAPTURE(i);
    CAPTURE(doubles[i]);
    CHECK(bias.data()[i] == static_cast<float>(doubles[i]));
  }
}

TEST_CASE("weights: int64 num_batches_tracked entries are ignored") {
  TempDir dir("weights");
  const std::string path = dir.file("tracked.h5");
  {
    H5Writer w(path);
    w.attr_int("num_classes", 3);
    w.floats("bn1.weight", {3}, {1.f, 2.f, 3.f});
    w.int64_scalar("bn1.num_batches_tracked", 12345);
    w.int64_scalar("layer4.1.bn2.num_batches_tracked", 12345);
  }
  const Weights w = load_weights(path);
  CHECK(w.params.size() == 1);
  CHECK(w.params.count("bn1.weight") == 1);
  CHECK(w.dims.count("bn1.num_batches_tracked") == 0);
  CHECK(w.dims.count("layer4.1.bn2.num_batches_tracked") == 0);
}

TEST_CASE("weights: root attributes are read, with ImageNet defaults when absent") {
  TempDir dir("weights");
  SUBCASE("all attributes present") {
    const std::string path = dir.file("attrs.h5");
    {
      H5Writer w(path);
      w.floats("fc.bias", {2}, {0.f, 0.f});
      w.attr_string("arch", "resnet34");
      w.attr_int("num_classes", 2);
      w.attr_int("input_size", 160);
      w.attr_int("resize_size", 182);
      w.attr_doubles("mean", {0.5, 0.25, 0.125});
      w.attr_doubles("std", {0.1, 0.2, 0.3});
      w.attr_strings("class_names", {"cat", "dog"});
    }
    const Weights w = load_weights(path);
    CHECK(w.path == path);
    CHECK(w.arch == "resnet34");
    CHECK(w.num_classes == 2);
    CHECK(w.input_size == 160);
    CHECK(w.resize_size == 182);
    REQUIRE(w.mean.size() == 3);
    REQUIRE(w.std.size() == 3);
    CHECK(w.mean[0] == 0.5f);
    CHECK(w.mean[1] == 0.25f);
    CHECK(w.mean[2] == 0.125f);
    CHECK(w.std[0] == 0.1f);
    CHECK(w.std[1] == 0.2f);
    CHECK(w.std[2] == 0.3f);
    CHECK(w.class_names == std::vector<std::string>{"cat", "dog"});
  }
  SUBCASE("fixed-length arch, no num_classes, no mean/std") {
    const std::string path = dir.file("few_attrs.h5");
    {
      H5Writer w(path);
      w.floats("fc.bias", {7}, std::vector<float>(7, 0.f));
      w.attr_string("arch", "resnet18", /*variable_length=*/false);
    }
    const Weights w = load_weights(path);
    CHECK(w.arch == "resnet18");
    CHECK(w.num_classes == 7);  // from fc.bias's length
    CHECK(w.input_size == 224);
    CHECK(w.resize_size == 256);
    CHECK(w.mean == std::vector<float>{0.485f, 0.456f, 0.406f});
    CHECK(w.std == std::vector<float>{0.229f, 0.224f, 0.225f});
    CHECK(w.class_names.empty());
  }
  SUBCASE("the golden file's attributes") {
    const Weights w = load_weights(lmask::testing::golden_path("resnet50_random.h5"));
    CHECK(w.arch == "resnet50");
    CHECK(w.num_classes == 1000);
    CHECK(w.dims.at("fc.weight") == std::vector<std::size_t>{1000, 2048});
    CHECK(w.dims.count("bn1.num_batches_tracked") == 0);
  }
}

// ---- whole models ----------------------------------------------------------

TEST_CASE("weights: a complete ResNet-18 file loads and runs") {
  const std::string& path = resnet18_file();
  const ResNet net = ResNet::load(path);
  CHECK(net.spec().num_classes == 10);
  CHECK(net.spec().bottleneck == false);
  CHECK(net.meta().arch == "resnet18");

  const Tensor x = [] {
    std::mt19937 rng(99);
    std::uniform_real_distribution<float> dist(-2.f, 2.f);
    Tensor t({1, 3, 32, 32});
    for (std::size_t i = 0; i < t.numel(); ++i) t.data()[i] = dist(rng);
    return t;
  }();
  const Tensor logits = net.forward(x);
  REQUIRE(logits.shape() == Shape{1, 10, 1, 1});
  for (int i = 0; i < 10; ++i) {
    CAPTURE(i);
    CHECK(std::isfinite(logits.data()[i]));
  }
  CHECK(max_abs(logits) > 0.f);  // not silently all zero

  // The unfolded reference agrees with the folded network on this file too.
  const ResNet reference = ResNet::load(path, LoadOptions{/*fold_bn=*/false});
  const Tensor ref_logits = reference.forward(x);
  const float diff = max_abs_diff(logits, ref_logits);
  CAPTURE(diff);
  CHECK(diff <= 1e-4f * std::max(1.f, max_abs(ref_logits)));
}

TEST_CASE("weights: a missing key makes ResNet::load name that key") {
  TempDir dir("weights");
  const std::string path = dir.file("resnet18_missing.h5");
  Corruption bad;
  bad.drop = "layer2.1.bn1.running_var";
  write_resnet(path, "resnet18", 10, bad, /*cheap=*/true);
  check_mentions(input_error_of([&] { ResNet::load(path); }),
                 {path, "missing key 'layer2.1.bn1.running_var'", "[128]"});
}

TEST_CASE("weights: a wrong shape makes ResNet::load name the key and both shapes") {
  TempDir dir("weights");
  SUBCASE("ResNet-50 fc.weight [10,2048] with num_classes 1000") {
    const std::string path = dir.file("resnet50_fc.h5");
    Corruption bad;
    bad.reshape = "fc.weight";
    bad.new_dims = {10, 2048};
    write_resnet(path, "resnet50", 1000, bad, /*cheap=*/true);
    check_mentions(input_error_of([&] { ResNet::load(path); }),
                   {path, "'fc.weight'", "expected shape [1000,2048], found [10,2048]"});
  }
  SUBCASE("ResNet-18 layer3.0.conv2.weight 1x1 instead of 3x3") {
    const std::string path = dir.file("resnet18_conv.h5");
    Corruption bad;
    bad.reshape = "layer3.0.conv2.weight";
    bad.new_dims = {256, 256, 1, 1};
    write_resnet(path, "resnet18", 10, bad, /*cheap=*/true);
    check_mentions(input_error_of([&] { ResNet::load(path); }),
                   {path, "'layer3.0.conv2.weight'",
                    "expected shape [256,256,3,3], found [256,256,1,1]"});
  }
  SUBCASE("ResNet-18 BatchNorm vector of the wrong length") {
    const std::string path = dir.file("resnet18_bn.h5");
    Corruption bad;
    bad.reshape = "layer4.1.bn2.bias";
    bad.new_dims = {256};
    write_resnet(path, "resnet18", 10, bad, /*cheap=*/true);
    check_mentions(input_error_of([&] { ResNet::load(path); }),
                   {path, "'layer4.1.bn2.bias'", "expected shape [512], found [256]"});
  }
}

TEST_CASE("weights: a NaN inside a ResNet-18 file is refused at load") {
  TempDir dir("weights");
  const std::string path = dir.file("resnet18_nan.h5");
  Corruption bad;
  bad.poison = "layer3.1.conv1.weight";
  write_resnet(path, "resnet18", 10, bad, /*cheap=*/true);
  check_mentions(input_error_of([&] { ResNet::load(path); }),
                 {path, "'layer3.1.conv1.weight'", "NaN"});
}

TEST_CASE("weights: an unknown arch attribute is refused") {
  TempDir dir("weights");
  const std::string path = dir.file("resnet_unknown.h5");
  {
    H5Writer w(path);
    w.attr_string("arch", "resnet19");
    w.floats("fc.bias", {2}, {0.f, 0.f});
  }
  check_mentions(input_error_of([&] { ResNet::load(path); }), {"resnet19"});
}

// ---- numbers that would size allocations or loops -------------------------

TEST_CASE("weights: root attributes out of range are refused before they are used") {
  TempDir dir("weights");
  struct Case {
    const char* name;
    std::function<void(H5Writer&)> attrs;
    std::vector<std::string> mentions;
  };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<Case> cases = {
      {"num_classes NaN", [&](H5Writer& w) { w.attr_doubles("num_classes", {nan}); }, {"'num_classes'", "nan"}},
      {"num_classes 0", [](H5Writer& w) { w.attr_int("num_classes", 0); }, {"'num_classes'", "1..1048576"}},
      {"input_size 1e12", [](H5Writer& w) { w.attr_doubles("input_size", {1e12}); }, {"'input_size'", "1..4096"}},
      {"input_size 2.5", [](H5Writer& w) { w.attr_doubles("input_size", {2.5}); }, {"'input_size'", "whole number"}},
      {"input_size two values", [](H5Writer& w) { w.attr_doubles("input_size", {64, 64}); }, {"'input_size'", "one"}},
      {"resize below input", [](H5Writer& w) { w.attr_int("input_size", 64), w.attr_int("resize_size", 32); },
       {"resize_size (32) is smaller than input_size (64)"}},
      {"mean of one value", [](H5Writer& w) { w.attr_doubles("mean", {0.5}); }, {"'mean'", "expected 3"}},
      {"mean Inf", [](H5Writer& w) { w.attr_doubles("mean", {0.5, HUGE_VAL, 0.5}); }, {"'mean'", "finite"}},
      {"std zero", [](H5Writer& w) { w.attr_doubles("std", {0.2, 0.0, 0.2}); }, {"'std'", "positive"}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    const std::string path = dir.file("attrs.h5");
    {
      H5Writer w(path);
      w.floats("fc.bias", {3}, {0.f, 1.f, 2.f});
      c.attrs(w);
    }
    std::vector<std::string> mentions = c.mentions;
    mentions.push_back(path);
    check_mentions(input_error_of([&] { load_weights(path); }), mentions);
  }
}

TEST_CASE("weights: a dataset declaring more values than the limit is refused without reading it") {
  // HDF5 stores an unwritten dataset in no bytes: this file is tiny, but a
  // loader that trusted the shape would ask for 4 TiB.
  TempDir dir("weights");
  const std::string path = dir.file("huge.h5");
  {
    H5Writer w(path);
    w.unwritten("fc.weight", {1u << 20, 1u << 20});
  }
  REQUIRE(fs::file_size(path) < 100000);
  check_mentions(input_error_of([&] { load_weights(path); }), {path, "'fc.weight'", "[1048576,1048576]", "limit"});
}

TEST_CASE("weights: data kept outside the weight file is refused before anything is read") {
  // HDF5 can take a dataset's values from other files: raw external storage,
  // a virtual dataset's sources, an external link. Any of them could be a
  // FIFO (reading would block), a device or someone else's file.
  TempDir dir("weights");
  const std::string path = dir.file("outside.h5");
  SUBCASE("external storage in a FIFO") {
    const std::string fifo = dir.file("values.raw");
    lmask::testing::FifoGuard guard(fifo);
    REQUIRE(guard.made());
    {
      H5Writer w(path);
      w.floats("fc.weight", {2, 4}, std::vector<float>(8, 0.1f));
      w.external_storage("fc.bias", 2, fifo);
    }
    CHECK(guard.error_of([&] { load_weights(path); }) ==
          path + ": dataset 'fc.bias' keeps its values in other files (external storage); "
                 "a weight file must hold its own values");
    CHECK_FALSE(guard.blocked());
  }
  SUBCASE("a virtual dataset") {
    const std::string other = dir.file("source.h5");
    {
      H5Writer w(other);
      w.floats("v", {2}, {1.f, 2.f});
    }
    {
      H5Writer w(path);
      w.virtual_of("fc.bias", 2, other, "v");
    }
    CHECK(input_error_of([&] { load_weights(path); }) ==
          path + ": dataset 'fc.bias' is a virtual dataset (its values are mapped from other files); "
                 "a weight file must hold its own values");
  }
  SUBCASE("an external link to a FIFO") {
    const std::string fifo = dir.file("other.h5");
    lmask::testing::FifoGuard guard(fifo);
    REQUIRE(guard.made());
    {
      H5Writer w(path);
      w.floats("fc.weight", {2, 4}, std::vector<float>(8, 0.1f));
      w.external_link("fc.bias", fifo, "/fc.bias");
    }
    CHECK(guard.error_of([&] { load_weights(path); }) ==
          path + ": 'fc.bias' is an external link (to '/fc.bias' in " + fifo +
                 "); a weight file must hold its own values");
    CHECK_FALSE(guard.blocked());
  }
}

TEST_CASE("weights: datasets declaring more values than the file stores are refused before allocation") {
  TempDir dir("weights");
  const std::string path = dir.file("declared.h5");
  SUBCASE("16 never-written GiB datasets in a 50 MB file") {
    // The reproducer of the issue: each dataset is within the per-dataset
    // limit, together they declare 16 GiB; reading them took 3.1 GB of
    // memory before failing with std::bad_alloc.
    {
      H5Writer w(path);
      for (int i = 0; i < 16; ++i) w.unwritten("layer1." + std::to_string(i) + ".conv1.weight", {hsize_t(1) << 28});
    }
    fs::resize_file(path, 50u << 20);
    rusage before{};
    getrusage(RUSAGE_SELF, &before);
    CHECK(input_error_of([&] { load_weights(path); }) ==
          path + ": its datasets declare 4294967296 values in all, more than the limit of 268435456 "
                 "(about twice wide_resnet101_2, the largest supported model)");
    rusage after{};
    getrusage(RUSAGE_SELF, &after);
    CHECK(after.ru_maxrss - before.ru_maxrss < 100 * 1024);  // kB: nothing near a GiB was touched
  }
  SUBCASE("one never-written dataset") {
    {
      H5Writer w(path);
      w.floats("fc.weight", {2, 4}, std::vector<float>(8, 0.1f));
      w.unwritten("fc.bias", {1u << 20});
    }
    CHECK(input_error_of([&] { load_weights(path); }) ==
          path + ": dataset 'fc.bias' declares 4194304 bytes but the file stores 0 of them "
                 "(never written, or the file is truncated)");
  }
  SUBCASE("a compressed dataset with most chunks never written") {
    {
      H5Writer w(path);
      w.compressed_first_chunk_only("fc.bias", hsize_t(1) << 24);
    }
    const std::string message = input_error_of([&] { load_weights(path); });
    check_mentions(message, {path + ": dataset 'fc.bias' declares 67108864 bytes but the file stores only ",
                             " compressed, more than deflate's 1032:1 could expand"});
  }
}

TEST_CASE("weights: a negative BatchNorm running_var is refused at load, naming the key") {
  // Its square root (in the folded scale, or in BatchNorm) would be NaN.
  TempDir dir("weights");
  const std::string path = dir.file("resnet18_negative_var.h5");
  Corruption bad;
  bad.negate = "layer2.0.bn1.running_var";
  write_resnet(path, "resnet18", 10, bad, /*cheap=*/true);
  for (bool fold : {true, false}) {
    CAPTURE(fold);
    CHECK(input_error_of([&] { ResNet::load(path, LoadOptions{fold}); }) ==
          path + ": key 'layer2.0.bn1.running_var' holds a negative variance (-0.5 at index 127)");
  }
}

TEST_CASE("weights: an fc.bias with no classes is refused when it is what sets the class count") {
  TempDir dir("weights");
  const std::string path = dir.file("no_classes.h5");
  {
    H5Writer w(path);
    w.floats("fc.bias", {0}, {});
  }
  check_mentions(input_error_of([&] { load_weights(path); }), {path, "'fc.bias'", "[0]"});
}
