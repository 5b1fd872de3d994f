// hdf5_file.cpp — read-only HDF5 access; all errors become InputError.
//
// HDF5 can take a dataset's values from other files: an external link, raw
// external storage, the sources of a virtual dataset. A weight file comes
// from anywhere, and any of those could name a FIFO (reading blocks), a
// device or somebody else's file, so only values stored in the file itself
// are read: the others are refused before HDF5 is asked to open anything.
#include "lmask/hdf5_file.h"

#include <hdf5.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "lmask/error.h"
#include "lmask/regular_file.h"

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

constexpr const char* kOwnValues = "a weight file must hold its own values";

void silence_hdf5_errors() {
  static bool done = false;
  if (!done) H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr), done = true;
}

// Why the link `name` (in group `loc`) leads out of this file, or "" for a
// hard or soft link (which stay inside it).
std::string outside_link_problem(hid_t loc, const char* name, const H5L_info_t& info) {
  if (info.type == H5L_TYPE_HARD || info.type == H5L_TYPE_SOFT) return "";
  const std::string link = std::string("'") + name + "' is ";
  if (info.type != H5L_TYPE_EXTERNAL) return link + "a user-defined link; " + kOwnValues;
  std::vector<char> value(info.u.val_size + 1, '\0');
  const char* file = nullptr;
  const char* object = nullptr;
  unsigned flags = 0;
  if (H5Lget_val(loc, name, value.data(), info.u.val_size, H5P_DEFAULT) < 0 ||
      H5Lunpack_elink_val(value.data(), info.u.val_size, &flags, &file, &object) < 0)
    return link + "an external link (to another file); " + kOwnValues;
  return link + "an external link (to '" + object + "' in " + file + "); " + kOwnValues;
}

// What H5Lvisit gathers: the datasets reached by hard links, or the first
// link out of the file (the visit stops there; soft links are not followed).
struct DatasetVisit {
  std::vector<std::string> names;
  std::string problem;
};

herr_t visit_link(hid_t root, const char* name, const H5L_info_t* info, void* data) {
  auto* visit = static_cast<DatasetVisit*>(data);
  visit->problem = outside_link_problem(root, name, *info);
  if (!visit->problem.empty()) return 1;
  H5O_info_t object;
  if (info->type == H5L_TYPE_HARD && H5Oget_info_by_name2(root, name, &object, H5O_INFO_BASIC, H5P_DEFAULT) >= 0 &&
      object.type == H5O_TYPE_DATASET)
    visit->names.push_back(name);
  return 0;
}

}  // namespace

Hdf5File::Hdf5File(const std::string& path) : path_(path) {
  silence_hdf5_errors();
  // HDF5 opens by name: opening a FIFO would block, a device never end.
  require_regular_file(path);
  if (H5Fis_hdf5(path.c_str()) <= 0)
    throw InputError(path, "not an HDF5 file (or truncated/corrupt)");
  file_ = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file_ < 0) throw InputError(path, "cannot open as HDF5 (corrupt file?)");
}

Hdf5File::~Hdf5File() {
  if (file_ >= 0) H5Fclose(file_);
}

bool Hdf5File::has(const std::string& name) const {
  // Each path component in turn, so that "a/b" with no "a" is not an error,
  // and so that a link out of the file is refused before "a/b" follows it.
  for (std::size_t end = name.find('/', 1);; end = name.find('/', end + 1)) {
    const std::string prefix = name.substr(0, end);
    if (H5Lexists(file_, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    H5L_info_t info;
    if (H5Lget_info(file_, prefix.c_str(), &info, H5P_DEFAULT) < 0) return false;
    const std::string problem = outside_link_problem(file_, prefix.c_str(), info);
    if (!problem.empty()) throw InputError(path_, problem);
    if (end == std::string::npos) return true;
  }
}

std::vector<std::string> Hdf5File::dataset_names() const {
  DatasetVisit visit;
  const herr_t visited = H5Lvisit(file_, H5_INDEX_NAME, H5_ITER_INC, visit_link, &visit);
  if (!visit.problem.empty()) throw InputError(path_, visit.problem);
  if (visited < 0) throw InputError(path_, "cannot list its datasets (corrupt file?)");
  return visit.names;
}

std::int64_t Hdf5File::open_dataset(const std::string& dataset) const {
  if (!has(dataset)) throw InputError(path_, "missing dataset '" + dataset + "'");
  Handle d{H5Dopen2(file_, dataset.c_str(), H5P_DEFAULT), H5Dclose};
  if (d.id < 0) throw InputError(path_, "'" + dataset + "' is not a dataset");
  Handle dcpl{H5Dget_create_plist(d.id), H5Pclose};
  if (dcpl.id < 0) throw InputError(path_, "dataset '" + dataset + "' has an unreadable layout");
  if (H5Pget_external_count(dcpl.id) > 0)
    throw InputError(path_, "dataset '" + dataset + "' keeps its values in other files (external storage); " +
                                kOwnValues);
  if (H5Pget_layout(dcpl.id) == H5D_VIRTUAL)
    throw InputError(path_, "dataset '" + dataset + "' is a virtual dataset (its values are mapped from other files); " +
                                kOwnValues);
  const hid_t id = d.id;
  d.id = -1;  // handed to the caller
  return id;
}

std::vector<std::uint64_t> Hdf5File::dims(const std::string& dataset) const {
  Handle d{open_dataset(dataset), H5Dclose};
  Handle space{H5Dget_space(d.id), H5Sclose};
  int rank = H5Sget_simple_extent_ndims(space.id);
  if (rank < 0) throw InputError(path_, "'" + dataset + "' has an unreadable shape");
  std::vector<hsize_t> d64(rank);
  H5Sget_simple_extent_dims(space.id, d64.data(), nullptr);
  return std::vector<std::uint64_t>(d64.begin(), d64.end());
}

Hdf5File::Storage Hdf5File::storage(const std::string& dataset) const {
  Handle d{open_dataset(dataset), H5Dclose};
  Handle space{H5Dget_space(d.id), H5Sclose};
  Handle type{H5Dget_type(d.id), H5Tclose};
  Handle dcpl{H5Dget_create_plist(d.id), H5Pclose};
  const hssize_t points = H5Sget_simple_extent_npoints(space.id);
  const std::size_t element = H5Tget_size(type.id);
  if (points < 0 || element == 0) throw InputError(path_, "'" + dataset + "' has an unreadable shape or type");
  Storage s;
  // At most 2^64 / 2^32: callers bound the shape first, but an overflow
  // here must not pass for a small size.
  s.declared_bytes = std::uint64_t(points) > UINT64_MAX / element ? UINT64_MAX : std::uint64_t(points) * element;
  s.stored_bytes = H5Dget_storage_size(d.id);
  s.filtered = H5Pget_layout(dcpl.id) == H5D_CHUNKED && H5Pget_nfilters(dcpl.id) > 0;
  return s;
}

namespace {
template <typename T>
std::vector<T> read_dataset(hid_t dataset_id, const std::string& path, const std::string& dataset,
                            hid_t memtype, std::size_t count) {
  Handle d{dataset_id, H5Dclose};
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
  return read_dataset<float>(open_dataset(dataset), path_, dataset, H5T_NATIVE_FLOAT, count);
}

std::vector<std::uint8_t> Hdf5File::read_bytes(const std::string& dataset) const {
  std::size_t count = 1;
  for (auto d : dims(dataset)) count *= d;
  return read_dataset<std::uint8_t>(open_dataset(dataset), path_, dataset, H5T_NATIVE_UINT8, count);
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
