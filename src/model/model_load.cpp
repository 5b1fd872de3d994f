// model_load.cpp — Model::load and Model::from_weights: a weight file, HDF5
// or .lmw, through the builder it asks for (graph_from_weights.h).
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <utility>

#include "graph_from_weights.h"
#include "lmask/lmw.h"
#include "lmask/model.h"
#include "lmask/regular_file.h"

namespace lmask {

namespace {

// Far above any .lmw of the ResNets lmask builds (ResNet-152 in float32 is
// 240 MB); a larger file is a wrong file, not one to read into memory.
constexpr std::uint64_t kMaxLmwFileBytes = std::uint64_t(4) << 30;

// A .lmw file starts with its magic; anything else is read as HDF5. A
// regular file either way (a FIFO would block, a device never end).
bool starts_with_lmw_magic(const std::string& path) {
  char magic[sizeof kLmwMagic] = {};
  const RegularFile file(path);
  return ::read(file.fd(), magic, sizeof magic) == ssize_t(sizeof magic) &&
         std::equal(magic, magic + sizeof magic, kLmwMagic);
}

Weights read_weight_file(const std::string& path) {
  if (!starts_with_lmw_magic(path)) return load_weights(path);
  const std::string bytes = read_regular_file(path, kMaxLmwFileBytes);
  return read_lmw_weights(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), path);
}

}  // namespace

Model Model::load(const std::string& path, const ModelOptions& options) {
  return from_weights(read_weight_file(path), options);
}

Model Model::from_weights(Weights weights, const ModelOptions& options) {
  BuiltGraph built = graph_from_weights(std::move(weights));
  Model model(std::move(built.graph), std::move(built.meta));
  model.resnet_ = std::move(built.resnet);
  if (!options.backend.empty()) model.use_backend(options.backend);
  return model;
}

}  // namespace lmask
