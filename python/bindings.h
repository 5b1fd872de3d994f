// bindings.h — the parts of the _lmask extension module, one file each;
// module.cpp puts them together. The Python package lmask (python/lmask/)
// re-exports them.
#pragma once

#include <string>

#include <pybind11/pybind11.h>

namespace lmask::python {

void bind_model(pybind11::module_& m);        // model_binding.cpp: lmask.Model
void bind_explainers(pybind11::module_& m);   // explain_binding.cpp: lime, ablate, segmentations
void bind_masks(pybind11::module_& m);        // masks_binding.cpp: lmask.masks, load_mask

// A str or os.PathLike argument as a path string.
std::string path_argument(const pybind11::handle& obj);

}  // namespace lmask::python
