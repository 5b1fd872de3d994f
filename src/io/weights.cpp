// weights.cpp — reads a ResNet's state_dict from lmask's HDF5 layout.
#include "lmask/weights.h"

#include <cmath>

#include "lmask/error.h"
#include "lmask/hdf5_file.h"

namespace lmask {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string dims_str(const std::vector<std::size_t>& d) {
  std::string s = "[";
  for (std::size_t i = 0; i < d.size(); ++i) s += (i ? "," : "") + std::to_string(d[i]);
  return s + "]";
}

// Rank-1 [C] -> [1,C,1,1]; rank-2 [O,I] -> [O,I,1,1]; rank-4 as is.
Shape tensor_shape(const std::string& path, const std::string& key,
                   const std::vector<std::size_t>& d) {
  auto as_int = [&](std::size_t v) {
    if (v > (1u << 30)) throw InputError(path, "dataset '" + key + "' is implausibly large");
    return static_cast<int>(v);
  };
  switch (d.size()) {
    case 1: return {1, as_int(d[0]), 1, 1};
    case 2: return {as_int(d[0]), as_int(d[1]), 1, 1};
    case 4: return {as_int(d[0]), as_int(d[1]), as_int(d[2]), as_int(d[3])};
    default:
      throw InputError(path, "dataset '" + key + "' has rank " + std::to_string(d.size()) +
                                 " (expected 1, 2 or 4)");
  }
}

}  // namespace

const Tensor& Weights::get(const std::string& key, const std::vector<std::size_t>& expected) const {
  auto it = params.find(key);
  if (it == params.end())
    throw InputError(path, "missing key '" + key + "' (expected shape " + dims_str(expected) +
                               "); is this the right architecture (" + arch + ")?");
  const auto& found = dims.at(key);
  if (found != expected)
    throw InputError(path, "key '" + key + "': expected shape " + dims_str(expected) +
                               ", found " + dims_str(found));
  return it->second;
}

Weights load_weights(const std::string& path) {
  Hdf5File file(path);
  Weights w;
  w.path = path;
  w.arch = file.attr_string("arch", "resnet50");
  w.num_classes = static_cast<int>(file.attr_number("num_classes", 0));
  w.input_size = static_cast<int>(file.attr_number("input_size", w.input_size));
  w.resize_size = static_cast<int>(file.attr_number("resize_size", w.resize_size));
  if (auto m = file.attr_numbers("mean"); m.size() == 3) w.mean.assign(m.begin(), m.end());
  if (auto s = file.attr_numbers("std"); s.size() == 3) w.std.assign(s.begin(), s.end());
  w.class_names = file.attr_strings("class_names");
  if (w.input_size <= 0 || w.resize_size < w.input_size)
    throw InputError(path, "attributes input_size/resize_size are out of range");

  for (const std::string& key : file.dataset_names()) {
    if (ends_with(key, "num_batches_tracked")) continue;
    auto d64 = file.dims(key);
    std::vector<std::size_t> d(d64.begin(), d64.end());
    Tensor t(tensor_shape(path, key, d));
    std::vector<float> values = file.read_floats(key);
    for (float v : values)
      if (!std::isfinite(v)) throw InputError(path, "dataset '" + key + "' holds NaN or Inf");
    std::copy(values.begin(), values.end(), t.data());
    w.params.emplace(key, t);
    w.dims.emplace(key, d);
  }
  if (w.params.empty()) throw InputError(path, "holds no weight datasets");
  if (w.num_classes <= 0) {
    auto it = w.dims.find("fc.bias");
    if (it == w.dims.end()) throw InputError(path, "missing key 'fc.bias' and no num_classes attribute");
    w.num_classes = static_cast<int>(it->second[0]);
  }
  return w;
}

}  // namespace lmask
