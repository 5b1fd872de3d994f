// zoo_weights.h — a golden zoo weight file (../shared/golden/zoo/<arch>_random.h5,
// read-only) copied into a test's temp dir with some root attributes set:
// a smaller input size for CLI and study runs that need many forwards, or
// another `arch` for the tests of a file that is not what it says. The
// tensors are untouched; the zoo's builders take any input size down to
// their last stage's 1x1.
#pragma once

#include <hdf5.h>

#include <filesystem>
#include <string>

#include <doctest/doctest.h>

#include "golden.h"
#include "temp_dir.h"

namespace lmask::testing {

struct ZooAttributes {
  int input_size = 0;  // > 0: input_size, and resize_size = input_size * 8 / 7 (torchvision's 224/256)
  std::string arch;    // non-empty: replaces the `arch` attribute
};

namespace detail {

inline void replace_attribute(hid_t file, const char* name, hid_t file_type, hid_t mem_type, const void* value) {
  if (H5Aexists(file, name) > 0) REQUIRE(H5Adelete(file, name) >= 0);
  const hid_t space = H5Screate(H5S_SCALAR);
  const hid_t attr = H5Acreate2(file, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE(attr >= 0);
  REQUIRE(H5Awrite(attr, mem_type, value) >= 0);
  H5Aclose(attr);
  H5Sclose(space);
}

}  // namespace detail

// Writes <dir>/<arch>_random.h5 (the golden file of `arch`, attributes set
// as `set` says) and returns its path.
inline std::string zoo_weights(const TempDir& dir, const std::string& arch, const ZooAttributes& set = {}) {
  namespace fs = std::filesystem;
  const std::string path = dir.file(arch + "_random.h5");
  fs::copy_file(golden_path("zoo/" + arch + "_random.h5"), path, fs::copy_options::overwrite_existing);
  // The golden file is read-only, and copy_file keeps its permissions.
  fs::permissions(path, fs::perms::owner_write, fs::perm_options::add);
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  REQUIRE(file >= 0);
  if (set.input_size > 0) {
    const long long sizes[2] = {set.input_size, set.input_size * 8 / 7};
    detail::replace_attribute(file, "input_size", H5T_STD_I64LE, H5T_NATIVE_LLONG, &sizes[0]);
    detail::replace_attribute(file, "resize_size", H5T_STD_I64LE, H5T_NATIVE_LLONG, &sizes[1]);
  }
  if (!set.arch.empty()) {
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    const char* value = set.arch.c_str();
    detail::replace_attribute(file, "arch", type, type, &value);
    H5Tclose(type);
  }
  REQUIRE(H5Fclose(file) >= 0);
  return path;
}

}  // namespace lmask::testing
