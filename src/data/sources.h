// sources.h — the dataset kinds behind open_dataset (internal to src/data).
#pragma once

#include <memory>
#include <string>

#include "lmask/dataset.h"

namespace lmask::data {

// Fashion-MNIST split "train" or "test" from the idx files in `dir`.
std::unique_ptr<Dataset> open_fashion_mnist(const std::string& dir, const std::string& split,
                                            const Weights& meta);
// root/<class>/<image>; mask_root empty = no object masks.
std::unique_ptr<Dataset> open_image_folder(const std::string& root, const std::string& mask_root,
                                           const Weights& meta);

}  // namespace lmask::data
