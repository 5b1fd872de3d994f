// backend_options.cpp — the --backend / --threads options and what they do.
#include "backend_options.h"

#include "number_options.h"

namespace lmask::cli {

void add_backend_options(CLI::App* cmd, BackendOptions& o) {
  std::string built;
  for (const std::string& name : available_backends()) built += (built.empty() ? "" : ", ") + name;
  // No IsMember check: make_backend's error also says how to build a missing one.
  cmd->add_option("--backend", o.name, "clean forward on: auto (the fastest built), native, onednn, cuda; built: " +
                                           built)
      ->capture_default_str();
  cmd->add_option("--threads", o.threads, "threads for the forward pass (0: OpenMP's default)")
      ->transform(Integer(0, 1024))
      ->capture_default_str();
}

void open_backend(const BackendOptions& o, Model& model) {
  set_threads(o.threads);
  // One copy of the weights, not two: the backend's (peak RSS at batch 1
  // on oneDNN, README "Performance").
  model.use_backend(o.name);
}

}  // namespace lmask::cli
