// open_dataset.cpp — turns a dataset spec ("fmnist:test", "folder:ROOT,masks=M")
// into a Dataset; the grammar is documented in dataset.h.
#include <string>

#include "lmask/error.h"
#include "sources.h"

namespace lmask {

namespace {

constexpr const char* kDebianFashionMnist = "/usr/share/datasets/fashion-mnist";

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

std::unique_ptr<Dataset> open_dataset(const std::string& spec, const Weights& meta) {
  if (starts_with(spec, "fmnist:")) {
    const std::string rest = spec.substr(7);
    const auto colon = rest.find(':');
    const std::string split = rest.substr(0, colon);
    const std::string dir = colon == std::string::npos ? kDebianFashionMnist : rest.substr(colon + 1);
    return data::open_fashion_mnist(dir, split, meta);
  }
  if (starts_with(spec, "folder:")) {
    std::string root = spec.substr(7), masks;
    const auto comma = root.rfind(",masks=");
    if (comma != std::string::npos) {
      masks = root.substr(comma + 7);
      root.resize(comma);
    }
    if (root.empty()) throw InputError(spec, "folder: needs a root directory");
    return data::open_image_folder(root, masks, meta);
  }
  throw InputError(spec, "unknown dataset (expected fmnist:train, fmnist:test[:DIR] or folder:ROOT[,masks=DIR])");
}

}  // namespace lmask
