// hdf5_file.h — a thin read-only wrapper over the HDF5 C API.
//
// Reads numeric datasets (float16/32/64, integers) as float, converting on
// load, and string/numeric attributes. Every failure is an InputError naming
// the file and the dataset, never an HDF5 error stack on stderr. Only a
// regular file is opened, and only values stored in it are read: external
// links, external storage and virtual datasets are refused (InputError).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lmask {

class Hdf5File {
 public:
  explicit Hdf5File(const std::string& path);  // throws InputError
  ~Hdf5File();
  Hdf5File(const Hdf5File&) = delete;
  Hdf5File& operator=(const Hdf5File&) = delete;

  const std::string& path() const { return path_; }
  bool has(const std::string& name) const;                 // dataset or group
  // Every dataset reached by hard links, recursively (soft links are not followed).
  std::vector<std::string> dataset_names() const;
  std::vector<std::uint64_t> dims(const std::string& dataset) const;
  // What a dataset declares and what the file holds for it, to check before
  // reading: HDF5 stores a never-written dataset in no bytes at all.
  struct Storage {
    std::uint64_t declared_bytes = 0;  // elements x element size in the file
    std::uint64_t stored_bytes = 0;    // H5Dget_storage_size
    bool filtered = false;             // compressed (a chunked dataset with filters)
  };
  Storage storage(const std::string& dataset) const;
  // The dataset's elements converted to float, row-major.
  std::vector<float> read_floats(const std::string& dataset) const;
  std::vector<std::uint8_t> read_bytes(const std::string& dataset) const;  // uint8 datasets
  // Root (or `object`) attributes; missing -> fallback.
  std::string attr_string(const std::string& name, const std::string& fallback = "",
                          const std::string& object = "/") const;
  double attr_number(const std::string& name, double fallback,
                     const std::string& object = "/") const;
  std::vector<double> attr_numbers(const std::string& name, const std::string& object = "/") const;
  std::vector<std::string> attr_strings(const std::string& name, const std::string& object = "/") const;

 private:
  // The open dataset (an hid_t the caller closes), after the checks above.
  std::int64_t open_dataset(const std::string& dataset) const;

  std::string path_;
  std::int64_t file_ = -1;  // hid_t
};

}  // namespace lmask
