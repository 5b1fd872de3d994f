// small_input_weights.h — the golden random ResNet-50 at a small input size:
// a copy of its weight file with the input_size and resize_size attributes
// set, so that studies and CLI runs that need many forwards (LIME) stay fast.
// The parameters are untouched; ResNets take any input size.
#pragma once

#include <hdf5.h>

#include <filesystem>
#include <string>

#include <doctest/doctest.h>

#include "golden.h"
#include "temp_dir.h"

namespace lmask::testing {

// Writes <dir>/resnet50_random_<size>px.h5 and returns its path.
inline std::string small_input_weights(const TempDir& dir, int size) {
  namespace fs = std::filesystem;
  const std::string path = dir.file("resnet50_random_" + std::to_string(size) + "px.h5");
  fs::copy_file(golden_path("resnet50_random.h5"), path, fs::copy_options::overwrite_existing);
  // The golden file is read-only, and copy_file keeps its permissions.
  fs::permissions(path, fs::perms::owner_write, fs::perm_options::add);
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  REQUIRE(file >= 0);
  for (const char* name : {"input_size", "resize_size"}) {
    if (H5Aexists(file, name) > 0) H5Adelete(file, name);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t attr = H5Acreate2(file, name, H5T_NATIVE_INT64, space, H5P_DEFAULT, H5P_DEFAULT);
    const long long value = size;
    REQUIRE(H5Awrite(attr, H5T_NATIVE_INT64, &value) >= 0);
    H5Aclose(attr);
    H5Sclose(space);
  }
  REQUIRE(H5Fclose(file) >= 0);
  return path;
}

}  // namespace lmask::testing
