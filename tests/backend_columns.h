// backend_columns.h — the backends a test runs a model on: those CMake
// configured (LMASK_TEST_BACKENDS, CMakeLists.txt) that can run in this
// process (available_backends: cuda only where a GPU is visible). Shared by
// the op table and the ONNX tests, so both check the same columns.
#pragma once

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "lmask/backend.h"

namespace lmask::testing {

// The backends this build was configured with, in CMake's order.
inline std::vector<std::string> configured_backends() {
  std::vector<std::string> names;
  std::stringstream list(LMASK_TEST_BACKENDS);
  for (std::string name; std::getline(list, name, ',');)
    if (!name.empty()) names.push_back(name);
  return names;
}

// The configured backends that can run here: one column each.
inline std::vector<std::string> backend_columns() {
  const std::vector<std::string> offered = available_backends();
  std::vector<std::string> columns;
  for (const std::string& name : configured_backends())
    if (std::find(offered.begin(), offered.end(), name) != offered.end()) columns.push_back(name);
  return columns;
}

}  // namespace lmask::testing
