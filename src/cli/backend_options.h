// backend_options.h — `--backend` and `--threads`, shared by the commands
// that run a clean forward pass (classify, eval, bench). Masked forwards run
// native code whatever --backend says (see lmask/backend.h).
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "lmask/backend.h"
#include "lmask/resnet.h"

namespace lmask::cli {

struct BackendOptions {
  std::string name = "auto";  // the fastest built
  int threads = 0;            // 0: OpenMP's default (OMP_NUM_THREADS or every core)
};

void add_backend_options(CLI::App* cmd, BackendOptions& o);

// Applies --threads, then makes the backend for `net` (which must outlive
// it). When the backend holds the weights itself, `net`'s block weights are
// released to it: from then on run `net` through the backend only.
std::unique_ptr<Backend> open_backend(const BackendOptions& o, ResNet& net);

}  // namespace lmask::cli
