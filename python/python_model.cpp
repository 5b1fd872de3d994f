// python_model.cpp — see python_model.h.
#include "python_model.h"

#include "errors.h"

namespace lmask::python {

namespace {

Model load_model(const std::string& path, int threads) {
  if (threads < 0) throw InputError("threads", "must be 0 (OpenMP's default) or more, got " + std::to_string(threads));
  return reading_files([&] { return Model::load(path); });
}

}  // namespace

PythonModel::PythonModel(const std::string& path, const std::string& backend, int threads)
    : model_(load_model(path, threads)), threads_(threads) {
  // As the CLI does (--backend): the backend takes the weights over, when it holds its own.
  model_.use_backend(backend);
}

}  // namespace lmask::python
