// hdf5_file.cpp — read-only HDF5 access; all errors become InputError.
#include "lmask/hdf5_file.h"

#include <hdf5.h>

#include <cmath>
#include <memory>

#include "lmask/error.h"

namespace lmask {

namespace {

// Closes an HDF5 handle when it goes out of scope.
struct Handle {
  hid_t id;
  herr_t (*close)(hid_t);
  ~Handle() {
    if (id >= 0) close(id);
  }
};

void silence_hdf5_errors() {
  static bool done = false;
  if (!done) H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr), done = true;
}

herr_t collect_dataset(hid_t, const char* name, const H5O_info_t* info, void* out) {
  if (info->type == H5O_TYPE_DATASET)
    static_cast<std::vector<std::string>*>(out)->push_back(name);
  return 0;
}

}  // namespace

Hdf5File::Hdf5File(const std::string& path) : path_(path) {
  silence_hdf5_errors();
  FILE* probe = std::fopen(path.c_str(), "rb");
  if (!probe) throw InputError(path, "cannot open file (missing or unreadable)");
  std::fclose(probe);
  if (H5Fis_hdf5(path.c_str()) <= 0)
    throw InputError(path, "not an HDF5 file (or truncated/corrupt)");
  file_ = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file_ < 0) throw InputError(path, "cannot open as HDF5 (corrupt file?)");
}

Hdf5File::~Hdf5File() {
  if (file_ >= 0) H5Fclose(file_);
}

bool Hdf5File::has(const std::string& name) const {
  // Check each path component so that "a/b" with no "a" is not an error.
  std::size_t pos = 0;
  while ((pos = name.find('/', pos + 1)) != std::string::npos)
    if (H5Lexists(file_, name.substr(0, pos).c_str(), H5P_DEFAULT) <= 0) return false;
  return H5Lexists(file_, name.c_str(), H5P_DEFAULT) > 0;
}

std::vector<std::string> Hdf5File::dataset_names() const {
  std::vector<std::string> names;
  H5Ovisit2(file_, H5_INDEX_NAME, H5_ITER_INC, collect_dataset, &names, H5O_INFO_BASIC);
  return names;
}

std::vector<std::uint64_t> Hdf5File::dims(const std::string& dataset) const {
  if (!has(dataset)) throw InputError(path_, "missing dataset '" + dataset + "'");
  Handle d{H5Dopen2(file_, dataset.c_str(), H5P_DEFAULT), H5Dclose};
  if (d.id < 0) throw InputError(path_, "'" + dataset + "' is not a dataset");
  Handle space{H5Dget_space(d.id), H5Sclose};
  int rank = H5Sget_simple_extent_ndims(space.id);
  if (rank < 0) throw InputError(path_, "'" + dataset + "' has an unreadable shape");
  std::vector<hsize_t> d64(rank);
  H5Sget_simple_extent_dims(space.id, d64.data(), nullptr);
  return std::vector<std::uint64_t>(d64.begin(), d64.end());
}

namespace {
template <typename T>
std::vector<T> read_dataset(hid_t file, const std::string& path, const std::string& dataset,
                            hid_t memtype, std::size_t count) {
  Handle d{H5Dopen2(file, dataset.c_str(), H5P_DEFAULT), H5Dclose};
  Handle type{H5Dget_type(d.id), H5Tclose};
  H5T_class_t cls = H5Tget_class(type.id);
  if (cls != H5T_FLOAT && cls != H5T_INTEGER)
    throw InputError(path, "dataset '" + dataset + "' is not numeric");
  std::vector<T> out(count);
  if (count && H5Dread(d.id, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0)
    throw InputError(path, "cannot read dataset '" + dataset + "' (corrupt or truncated file?)");
  return out;
}
}  // namespace

std::vector<float> Hdf5File::read_floats(const std::string& dataset) const {
  std::size_t count = 1;
  for (auto d : dims(dataset)) count *= d;
  return read_dataset<float>(file_, path_, dataset, H5T_NATIVE_FLOAT, count);
}

std::vector<std::uint8_t> Hdf5File::read_bytes(const std::string& dataset) const {
  std::size_t count = 1;
  for (auto d : dims(dataset)) count *= d;
  return read_dataset<std::uint8_t>(file_, path_, dataset, H5T_NATIVE_UINT8, count);
}

namespace {
// Opens attribute `name` on `object`, or returns an invalid handle.
hid_t open_attr(hid_t file, const std::string& object, const std::string& name) {
  if (H5Aexists_by_name(file, object.c_str(), name.c_str(), H5P_DEFAULT) <= 0) return -1;
  return H5Aopen_by_name(file, object.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT);
}

std::size_t attr_count(hid_t attr) {
  Handle space{H5Aget_space(attr), H5Sclose};
  hssize_t n = H5Sget_simple_extent_npoints(space.id);
  return n < 0 ? 0 : static_cast<std::size_t>(n);
}
}  // namespace

std::vector<std::string> Hdf5File::attr_strings(const std::string& name,
                                                const std::string& object) const {
  Handle a{open_attr(file_, object, name), H5Aclose};
  if (a.id < 0) return {};
  Handle type{H5Aget_type(a.id), H5Tclose};
  if (H5Tget_class(type.id) != H5T_STRING)
    throw InputError(path_, "attribute '" + name + "' is not a string");
  std::size_t n = attr_count(a.id);
  std::vector<std::string> out;
  if (H5Tis_variable_str(type.id) > 0) {
    Handle mem{H5Tcopy(H5T_C_S1), H5Tclose};
    H5Tset_size(mem.id, H5T_VARIABLE);
    H5Tset_cset(mem.id, H5Tget_cset(type.id));
    std::vector<char*> raw(n, nullptr);
    if (H5Aread(a.id, mem.id, raw.data()) < 0)
      throw InputError(path_, "cannot read attribute '" + name + "'");
    for (char* s : raw) out.emplace_back(s ? s : "");
    Handle space{H5Aget_space(a.id), H5Sclose};
    H5Dvlen_reclaim(mem.id, space.id, H5P_DEFAULT, raw.data());
  } else {
    std::size_t len = H5Tget_size(type.id);
    std::vector<char> raw(n * len + 1, '\0');
    if (H5Aread(a.id, type.id, raw.data()) < 0)
      throw InputError(path_, "cannot read attribute '" + name + "'");
    for (std::size_t i = 0; i < n; ++i) {
      std::string s(raw.data() + i * len, len);
      out.push_back(s.substr(0, s.find('\0')));
    }
  }
  return out;
}

std::string Hdf5File::attr_string(const std::string& name, const std::string& fallback,
                                  const std::string& object) const {
  auto all = attr_strings(name, object);
  return all.empty() ? fallback : all.front();
}

std::vector<double> Hdf5File::attr_numbers(const std::string& name,
                                           const std::string& object) const {
  Handle a{open_attr(file_, object, name), H5Aclose};
  if (a.id < 0) return {};
  Handle type{H5Aget_type(a.id), H5Tclose};
  H5T_class_t cls = H5Tget_class(type.id);
  if (cls != H5T_FLOAT && cls != H5T_INTEGER)
    throw InputError(path_, "attribute '" + name + "' is not numeric");
  std::vector<double> out(attr_count(a.id));
  if (!out.empty() && H5Aread(a.id, H5T_NATIVE_DOUBLE, out.data()) < 0)
    throw InputError(path_, "cannot read attribute '" + name + "'");
  return out;
}

double Hdf5File::attr_number(const std::string& name, double fallback,
                             const std::string& object) const {
  auto all = attr_numbers(name, object);
  return all.empty() ? fallback : all.front();
}

}  // namespace lmask
