// weights_entry.cpp — fuzzing the HDF5 weight loader on files written here
// from the fuzzer's bytes (fuzz_entries.h).
//
// Random bytes are almost never an HDF5 file, so most inputs are read as a
// short program instead: "add a dataset of this name, rank, shape, type and
// content", "add this attribute", "add a group". That reaches every check
// of load_weights and Model::from_weights (names, ranks, shapes, types, NaN,
// attributes) with files HDF5 itself considers valid.
//
// Mode 2 hands raw bytes to HDF5, to probe the library's own parser. It is
// off unless LMASK_FUZZ_HDF5_RAW=1: within a minute it finds inputs on
// which Debian's libhdf5 1.10.8 never returns (a damaged global heap read
// through a variable-length string attribute loops in H5C_protect), a bug
// of that library which lmask cannot fix (tests/fuzz/known/).
#include <hdf5.h>

#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "fuzz_entries.h"
#include "lmask/error.h"
#include "lmask/model.h"
#include "lmask/weights.h"

namespace lmask::fuzz {

namespace {

const std::array<const char*, 12> kNames = {
    "conv1.weight", "bn1.weight",      "bn1.running_var", "fc.weight",        "fc.bias",
    "layer1.0.conv1.weight", "layer4.1.bn2.bias", "bn1.num_batches_tracked", "extra", "g/inner",
    "layer2.0.downsample.0.weight", "layer3"};
const std::array<const char*, 8> kAttrs = {"arch", "num_classes", "input_size", "resize_size",
                                           "mean", "std",         "class_names", "other"};

// Closes an HDF5 handle at scope exit.
struct H5 {
  hid_t id;
  herr_t (*close)(hid_t);
  ~H5() {
    if (id >= 0) close(id);
  }
};

hid_t f16_type() {
  const hid_t t = H5Tcopy(H5T_IEEE_F32LE);
  H5Tset_fields(t, 15, 10, 5, 0, 10);
  H5Tset_size(t, 2);
  H5Tset_ebias(t, 15);
  return t;
}

hid_t create_space(const std::vector<hsize_t>& dims) {
  return dims.empty() ? H5Screate(H5S_SCALAR) : H5Screate_simple(int(dims.size()), dims.data(), nullptr);
}

// A float dataset `name` of `dims` that is never written: the file holds a
// shape and no values (the loader must refuse it from its storage size).
void add_unwritten(hid_t file, const std::string& name, const std::vector<hsize_t>& dims, float fill) {
  H5 space{create_space(dims), H5Sclose};
  H5 dcpl{H5Pcreate(H5P_DATASET_CREATE), H5Pclose};
  H5Pset_fill_value(dcpl.id, H5T_NATIVE_FLOAT, &fill);
  H5Pset_alloc_time(dcpl.id, H5D_ALLOC_TIME_LATE);
  H5 d{H5Dcreate2(file, name.c_str(), H5T_IEEE_F32LE, space.id, H5P_DEFAULT, dcpl.id, H5P_DEFAULT), H5Dclose};
}

// A float dataset of `dims` holding `value` everywhere, deflate-compressed in
// one chunk, so that a whole ResNet-18 is a small file.
void add_constant(hid_t file, const std::string& name, const std::vector<hsize_t>& dims, float value) {
  hsize_t count = 1;
  for (hsize_t d : dims) count *= d;
  const std::vector<float> values(count, value);
  H5 space{create_space(dims), H5Sclose};
  H5 dcpl{H5Pcreate(H5P_DATASET_CREATE), H5Pclose};
  H5Pset_chunk(dcpl.id, int(dims.size()), dims.data());
  H5Pset_deflate(dcpl.id, 1);
  H5 d{H5Dcreate2(file, name.c_str(), H5T_IEEE_F32LE, space.id, H5P_DEFAULT, dcpl.id, H5P_DEFAULT), H5Dclose};
  H5Dwrite(d.id, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
}

// Every key of torchvision's resnet18 with its shape, as the converter writes them.
void add_resnet18(hid_t file) {
  auto conv_bn = [&](const std::string& conv, const std::string& bn, hsize_t out, hsize_t in, hsize_t k) {
    add_constant(file, conv + ".weight", {out, in, k, k}, 0.01f);
    for (const char* f : {".weight", ".bias", ".running_mean"}) add_constant(file, bn + f, {out}, 0.f);
    add_constant(file, bn + ".running_var", {out}, 1.f);
  };
  conv_bn("conv1", "bn1", 64, 3, 7);
  hsize_t in = 64;
  for (int stage = 0; stage < 4; ++stage) {
    const hsize_t planes = hsize_t(64) << stage;
    for (int b = 0; b < 2; ++b) {
      const std::string key = "layer" + std::to_string(stage + 1) + "." + std::to_string(b) + ".";
      conv_bn(key + "conv1", key + "bn1", planes, in, 3);
      conv_bn(key + "conv2", key + "bn2", planes, planes, 3);
      if (b == 0 && stage > 0) conv_bn(key + "downsample.0", key + "downsample.1", planes, in, 1);
      in = planes;
    }
  }
  add_constant(file, "fc.weight", {10, 512}, 0.01f);
  add_constant(file, "fc.bias", {10}, 0.f);
}

void add_string_attr(hid_t file, const std::string& name, const std::vector<std::string>& values, bool variable) {
  H5 type{H5Tcopy(H5T_C_S1), H5Tclose};
  const hsize_t n = values.size();
  H5 space{n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr), H5Sclose};
  std::size_t longest = 1;
  for (const auto& v : values) longest = std::max(longest, v.size());
  H5Tset_size(type.id, variable ? H5T_VARIABLE : longest);
  H5 attr{H5Acreate2(file, name.c_str(), type.id, space.id, H5P_DEFAULT, H5P_DEFAULT), H5Aclose};
  if (attr.id < 0) return;
  if (variable) {
    std::vector<const char*> ptrs;
    for (const auto& v : values) ptrs.push_back(v.c_str());
    H5Awrite(attr.id, type.id, ptrs.data());
  } else {
    std::string packed;
    for (const auto& v : values) packed += v + std::string(longest - v.size(), '\0');
    H5Awrite(attr.id, type.id, packed.data());
  }
}

void add_dataset(hid_t file, Bytes& in) {
  const std::string name = kNames[in.u8() % kNames.size()];
  if (H5Lexists(file, name.c_str(), H5P_DEFAULT) > 0) H5Ldelete(file, name.c_str(), H5P_DEFAULT);
  std::vector<hsize_t> dims(in.u8() % 6);
  hsize_t count = 1;
  for (hsize_t& d : dims) {
    const std::uint8_t b = in.u8();
    d = b < 240 ? b % 9 : in.u32();
    count *= d;
  }
  const std::uint8_t kind = in.u8();
  // Values only for small datasets; a large shape stays unwritten.
  if (count > 4096 || kind % 8 == 7) {
    add_unwritten(file, name, dims, static_cast<float>(in.f64()));
    return;
  }
  H5 space{create_space(dims), H5Sclose};
  hid_t file_type = H5T_IEEE_F32LE;
  H5 f16{-1, H5Tclose};
  H5 str{-1, H5Tclose};
  switch (kind % 7) {
    case 0: file_type = H5T_IEEE_F64LE; break;
    case 1: f16.id = f16_type(), file_type = f16.id; break;
    case 2: file_type = H5T_STD_I64LE; break;
    case 3: file_type = H5T_STD_U8LE; break;
    case 4: str.id = H5Tcopy(H5T_C_S1), H5Tset_size(str.id, 4), file_type = str.id; break;
    default: break;
  }
  H5 d{H5Dcreate2(file, name.c_str(), file_type, space.id, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose};
  if (d.id < 0) return;
  if (str.id >= 0) {
    std::vector<char> chars(count * 4);
    for (char& ch : chars) ch = static_cast<char>(in.u8());
    H5Dwrite(d.id, str.id, H5S_ALL, H5S_ALL, H5P_DEFAULT, chars.data());
    return;
  }
  std::vector<double> values(count);
  for (double& v : values) v = in.u8() < 250 ? (in.u8() - 128) / 64.0 : in.f64();
  H5Dwrite(d.id, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
}

void add_attribute(hid_t file, Bytes& in) {
  const std::string name = kAttrs[in.u8() % kAttrs.size()];
  if (H5Aexists(file, name.c_str()) > 0) H5Adelete(file, name.c_str());
  const std::uint8_t kind = in.u8();
  const std::size_t n = in.u8() % 5;
  if (kind % 3 == 0) {
    std::vector<std::string> values(std::max<std::size_t>(n, 1));
    for (auto& v : values) {
      const std::size_t len = in.u8() % 17;
      for (std::size_t i = 0; i < len; ++i) v.push_back(static_cast<char>(in.u8()));
      v = v.substr(0, v.find('\0'));
    }
    add_string_attr(file, name, values, kind % 2 == 0);
    return;
  }
  std::vector<double> values(std::max<std::size_t>(n, 1));
  for (double& v : values) v = in.u8() < 128 ? static_cast<double>(in.u32() % 5000) : in.f64();
  const hsize_t count = values.size();
  H5 space{n == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &count, nullptr), H5Sclose};
  const hid_t type = kind % 3 == 1 ? H5T_IEEE_F64LE : H5T_STD_I64LE;
  H5 attr{H5Acreate2(file, name.c_str(), type, space.id, H5P_DEFAULT, H5P_DEFAULT), H5Aclose};
  if (attr.id < 0) return;
  if (type == H5T_STD_I64LE) {
    std::vector<long long> ints;
    for (double v : values) ints.push_back(std::isfinite(v) && std::fabs(v) < 9e18 ? static_cast<long long>(v) : -1);
    H5Awrite(attr.id, H5T_NATIVE_LLONG, ints.data());
  } else {
    H5Awrite(attr.id, H5T_NATIVE_DOUBLE, values.data());
  }
}

// A complete ResNet-18 file, written once per process (compressing its 11M
// values for every input would slow fuzzing down) and copied for each input.
const std::string& resnet18_file() {
  static const std::string path = [] {
    const std::string p = scratch_path("resnet18.h5");
    H5 file{H5Fcreate(p.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose};
    add_resnet18(file.id);
    add_string_attr(file.id, "arch", {"resnet18"}, true);
    return p;
  }();
  return path;
}

// Writes the file the program describes; false when HDF5 would not create it.
bool write_program(const std::string& path, Bytes& in, bool start_from_resnet18) {
  std::error_code ec;
  if (start_from_resnet18 &&
      !std::filesystem::copy_file(resnet18_file(), path, std::filesystem::copy_options::overwrite_existing, ec))
    return false;
  H5 file{start_from_resnet18 ? H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT)
                              : H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
          H5Fclose};
  if (file.id < 0) return false;
  for (int step = 0; step < 16 && in.left() > 0; ++step) {
    switch (in.u8() % 4) {
      case 0: add_dataset(file.id, in); break;
      case 1: add_attribute(file.id, in); break;
      case 2: add_attribute(file.id, in); break;
      default: {
        const std::string name = kNames[in.u8() % kNames.size()];
        if (H5Lexists(file.id, name.c_str(), H5P_DEFAULT) <= 0)
          H5 group{H5Gcreate2(file.id, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose};
      }
    }
  }
  return true;
}

}  // namespace

void weights_entry(const std::uint8_t* data, std::size_t size) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // the harness's own failed calls stay quiet
  Bytes in(data, size);
  const std::uint8_t mode = in.u8() % 4;
  const std::string path = scratch_path("weights.h5");
  static const bool raw_allowed = [] {
    const char* v = std::getenv("LMASK_FUZZ_HDF5_RAW");
    return v && std::strcmp(v, "1") == 0;
  }();
  if (mode == 2) {
    if (!raw_allowed) return;
    write_scratch(path, in.rest(), in.left());
  } else if (!write_program(path, in, mode == 3)) {
    return;
  }
  try {
    (void)Model::from_weights(load_weights(path));
  } catch (const InputError&) {
  }
}

}  // namespace lmask::fuzz
