// weights.cpp — reads a ResNet's state_dict from lmask's HDF5 layout.
//
// A weight file may come from anywhere, so every number in it is checked
// before it sizes an allocation or a loop: attributes must be finite integers
// in range; the declared element counts are bounded, each and in all,
// before anything is read (HDF5 stores an unwritten dataset in no bytes at
// all, so a tiny file can claim terabytes); each dataset's values must be
// in the file (checked from its storage size before it is read); values
// must be finite. Shapes are checked against the architecture later, by
// ResNet::load through Weights::get.
#include "lmask/weights.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>

#include "lmask/error.h"
#include "lmask/hdf5_file.h"

namespace lmask {

namespace {

// Deflate's densest code (a 258-byte match in 2 bits) expands at most 1032
// times; other HDF5 filters in use for weights compress less.
constexpr std::uint64_t kMaxCompressionRatio = 1032;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string fmt_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string dims_str(const std::vector<std::size_t>& d) {
  std::string s = "[";
  for (std::size_t i = 0; i < d.size(); ++i) s += (i ? "," : "") + std::to_string(d[i]);
  return s + "]";
}

// Rank-1 [C] -> [1,C,1,1]; rank-2 [O,I] -> [O,I,1,1]; rank-4 as is.
// Refuses more than kMaxWeightValues elements, before anything is allocated.
Shape tensor_shape(const std::string& path, const std::string& key,
                   const std::vector<std::size_t>& d) {
  std::size_t count = 1;
  for (std::size_t v : d) {
    if (v != 0 && count > kMaxWeightValues / v)
      throw InputError(path, "dataset '" + key + "' has shape " + dims_str(d) + ", more than the limit of " +
                                 std::to_string(kMaxWeightValues) + " values");
    count *= v;
  }
  auto as_int = [&](std::size_t v) {
    // Each side is at most count, unless another side is 0.
    if (v > kMaxWeightValues)
      throw InputError(path, "dataset '" + key + "' has shape " + dims_str(d) + ", a side above " +
                                 std::to_string(kMaxWeightValues));
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

// The file must hold every byte a dataset declares: an unfiltered one in
// full (less means never written, or a truncated file), a compressed one
// within deflate's largest expansion. Otherwise reading would conjure
// values the file does not have, and memory the file does not justify.
void check_stored(const Hdf5File& file, const std::string& key) {
  const Hdf5File::Storage s = file.storage(key);
  const std::string declares = "dataset '" + key + "' declares " + std::to_string(s.declared_bytes) + " bytes";
  if (!s.filtered && s.stored_bytes < s.declared_bytes)
    throw InputError(file.path(), declares + " but the file stores " + std::to_string(s.stored_bytes) +
                                      " of them (never written, or the file is truncated)");
  if (s.filtered && s.stored_bytes < s.declared_bytes / kMaxCompressionRatio)
    throw InputError(file.path(), declares + " but the file stores only " + std::to_string(s.stored_bytes) +
                                      " compressed, more than deflate's " + std::to_string(kMaxCompressionRatio) +
                                      ":1 could expand (chunks never written, or the file is truncated)");
}

// A root attribute that must be a whole number in [lo, hi]; absent -> fallback.
// Checked in double before the cast: a NaN or 1e300 cast to int is undefined.
int int_attribute(const Hdf5File& file, const std::string& name, int fallback, int lo, int hi) {
  const std::vector<double> v = file.attr_numbers(name);
  if (v.empty()) return fallback;
  if (v.size() != 1)
    throw InputError(file.path(), "attribute '" + name + "' holds " + std::to_string(v.size()) +
                                      " numbers; expected one");
  if (!(v[0] >= lo && v[0] <= hi) || v[0] != std::floor(v[0]))
    throw InputError(file.path(), "attribute '" + name + "' is " + fmt_number(v[0]) + "; expected a whole number in " +
                                      std::to_string(lo) + ".." + std::to_string(hi));
  return static_cast<int>(v[0]);
}

// mean/std: absent -> the ImageNet defaults; else three finite numbers
// (one per RGB channel), std positive, since every pixel is divided by it.
void rgb_attribute(const Hdf5File& file, const std::string& name, bool positive, std::vector<float>& out) {
  const std::vector<double> v = file.attr_numbers(name);
  if (v.empty()) return;
  if (v.size() != 3)
    throw InputError(file.path(), "attribute '" + name + "' holds " + std::to_string(v.size()) +
                                      " numbers; expected 3, one per RGB channel");
  for (double x : v)
    if (!std::isfinite(x) || (positive && !(x > 0)) || std::fabs(x) > 1e6)
      throw InputError(file.path(), "attribute '" + name + "' holds " + fmt_number(x) + "; expected " +
                                        (positive ? "positive " : "") + "finite numbers");
  out.assign(v.begin(), v.end());
}

}  // namespace

Weights load_weights(const std::string& path) {
  Hdf5File file(path);
  Weights w;
  w.path = path;
  w.arch = file.attr_string("arch", "resnet50");
  w.num_classes = int_attribute(file, "num_classes", 0, 1, kMaxClasses);
  w.input_size = int_attribute(file, "input_size", w.input_size, 1, kMaxInputSize);
  w.resize_size = int_attribute(file, "resize_size", w.resize_size, 1, 2 * kMaxInputSize);
  if (w.resize_size < w.input_size)
    throw InputError(path, "attribute resize_size (" + std::to_string(w.resize_size) +
                               ") is smaller than input_size (" + std::to_string(w.input_size) + ")");
  rgb_attribute(file, "mean", false, w.mean);
  rgb_attribute(file, "std", true, w.std);
  w.class_names = file.attr_strings("class_names");
  // Kept as text: read (and checked) against the datasets by graph_from_description.
  const std::vector<std::string> graph = file.attr_strings("lmask_graph");
  if (graph.size() > 1)
    throw InputError(path, "attribute 'lmask_graph' holds " + std::to_string(graph.size()) +
                               " strings; expected one graph description");
  if (!graph.empty() && graph.front().empty())
    throw InputError(path, "attribute 'lmask_graph' is empty; expected a graph description (or no attribute)");
  if (!graph.empty()) w.graph_json = graph.front();

  // Every shape first, so that what the file declares in all is bounded
  // before anything is allocated; then each dataset's storage, just before
  // it is read, so that no dataset is larger than what the file holds.
  std::vector<std::string> keys;
  std::vector<Shape> shapes;
  std::uint64_t total = 0;
  for (const std::string& key : file.dataset_names()) {
    if (ends_with(key, "num_batches_tracked")) continue;
    auto d64 = file.dims(key);
    w.dims.emplace(key, std::vector<std::size_t>(d64.begin(), d64.end()));
    shapes.push_back(tensor_shape(path, key, w.dims.at(key)));
    keys.push_back(key);
    total += shapes.back().numel();  // each at most 2^28: no overflow
  }
  if (total > kMaxTotalWeightValues)
    throw InputError(path, "its datasets declare " + std::to_string(total) + " values in all, more than the limit of " +
                               std::to_string(kMaxTotalWeightValues) +
                               " (about twice wide_resnet101_2, the largest supported model)");
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const std::string& key = keys[i];
    check_stored(file, key);
    Tensor t(shapes[i]);
    std::vector<float> values = file.read_floats(key);
    for (float v : values)
      if (!std::isfinite(v)) throw InputError(path, "dataset '" + key + "' holds NaN or Inf");
    std::copy(values.begin(), values.end(), t.data());
    w.params.emplace(key, t);
  }
  // A described graph may have no weighted node (a converted pooling or
  // activation model); without a description the ResNet needs its tensors.
  if (w.params.empty() && w.graph_json.empty()) throw InputError(path, "holds no weight datasets");
  if (w.num_classes <= 0) {
    auto it = w.dims.find("fc.bias");
    if (it == w.dims.end()) throw InputError(path, "missing key 'fc.bias' and no num_classes attribute");
    if (it->second.size() != 1 || it->second[0] < 1 || it->second[0] > std::size_t(kMaxClasses))
      throw InputError(path, "key 'fc.bias' has shape " + dims_str(it->second) + "; expected [classes] with 1.." +
                                 std::to_string(kMaxClasses) + " classes");
    w.num_classes = static_cast<int>(it->second[0]);
  }
  return w;
}

}  // namespace lmask
