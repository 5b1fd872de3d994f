// weights_get.cpp — Weights::get, the checked lookup ResNet::load uses.
// Apart from weights.cpp (the HDF5 reader) so that the embedded build, which
// fills Weights from a .lmw buffer, has it without HDF5.
#include "lmask/error.h"
#include "lmask/weights.h"

namespace lmask {

namespace {

std::string dims_str(const std::vector<std::size_t>& d) {
  std::string s = "[";
  for (std::size_t i = 0; i < d.size(); ++i) s += (i ? "," : "") + std::to_string(d[i]);
  return s + "]";
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

}  // namespace lmask
