// backend_options.h — `--backend` and `--threads`, shared by the commands
// that run the model on a backend (classify, eval, bench), clean and masked.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "lmask/model.h"

namespace lmask::cli {

struct BackendOptions {
  std::string name = "auto";  // the fastest built
  int threads = 0;            // 0: OpenMP's default (OMP_NUM_THREADS or every core)
};

void add_backend_options(CLI::App* cmd, BackendOptions& o);

// Applies --threads, then puts `model` on the backend (Model::use_backend:
// when the backend holds the weights itself, the model lets go of its own).
void open_backend(const BackendOptions& o, Model& model);

}  // namespace lmask::cli
