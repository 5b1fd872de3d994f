// module.cpp — the _lmask extension module: its parts (bindings.h) put
// together. The Python package lmask (python/lmask/__init__.py) is what
// users import; see python/README.md for the API.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings.h"
#include "errors.h"
#include "lmask/backend.h"
#include "lmask/malloc_tuning.h"

namespace lmask::python {

std::string path_argument(const pybind11::handle& obj) {
  return pybind11::module_::import("os").attr("fspath")(obj).cast<std::string>();
}

}  // namespace lmask::python

PYBIND11_MODULE(_lmask, m) {
  m.doc() = "lmask: CNN inference with layer masking (the C++ engine; import lmask, not this)";
  // As the CLI does at start-up: each forward's freed activations reused
  // instead of mmapped and zeroed afresh (malloc_tuning.h).
  lmask::tune_malloc_for_forwards();
  lmask::python::register_error_translation();
  lmask::python::bind_model(m);
  lmask::python::bind_explainers(m);
  lmask::python::bind_masks(m);
  m.def("available_backends", &lmask::available_backends, "The backends this build offers, fastest first.");
}
