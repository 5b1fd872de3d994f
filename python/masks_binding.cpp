// masks_binding.cpp — lmask.masks, the mask builders the studies use, each
// giving a bool [H,W] (True = visible; np.stack them into a batch), and
// lmask.load_mask, a mask PNG through the CLI's resize and crop.
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "arrays.h"
#include "bindings.h"
#include "errors.h"
#include "lmask/error.h"
#include "lmask/image.h"
#include "lmask/mask_builders.h"
#include "python_model.h"

namespace lmask::python {

namespace {

namespace py = pybind11;

py::array_t<bool> patches(int h, int w, int patch, double remove, std::uint64_t seed) {
  check_picture_size(h, w);
  at_least(patch, 1, "patch");
  if (!(remove >= 0 && remove <= 1)) throw InputError("remove", "must be a fraction in [0, 1], got " + std::to_string(remove));
  return mask_to_numpy(random_patch_mask(h, w, patch, remove, seed));
}

py::array_t<bool> segments(const py::handle& labels, const std::vector<int>& removed) {
  const py::array a = py::array::ensure(labels);
  if (!a || a.ndim() != 2) throw InputError("labels", "expected segment ids [H,W], integers 0..K-1");
  const Segmentation seg = segmentation_from(a, int(a.shape(0)), int(a.shape(1)), "labels");
  for (int id : removed)
    if (id < 0 || id >= seg.count)
      throw InputError("removed", "segment " + std::to_string(id) + " is not one of 0.." + std::to_string(seg.count - 1));
  return mask_to_numpy(segment_mask(seg.labels, seg.h, seg.w, removed));
}

py::array_t<bool> rectangle(int h, int w, int x0, int y0, int x1, int y1) {
  check_picture_size(h, w);
  return mask_to_numpy(rectangle_mask(h, w, x0, y0, x1, y1));
}

py::array_t<bool> disk(int h, int w, double cx, double cy, double r) {
  check_picture_size(h, w);
  if (!std::isfinite(cx) || !std::isfinite(cy) || !std::isfinite(r))
    throw InputError("disk", "centre and radius must be finite numbers");
  return mask_to_numpy(disk_mask(h, w, cx, cy, r));
}

// The photo's size: decoded from its file, or the shape of its bytes.
std::pair<int, int> photo_size(const py::handle& like) {
  if (py::isinstance<py::str>(like) || py::hasattr(like, "__fspath__")) {
    const std::string path = path_argument(like);
    const ImageU8 photo = reading_files([&] {
      py::gil_scoped_release no_gil;
      return read_image(path);
    });
    return {photo.width, photo.height};
  }
  const ImageU8 photo = picture_from(like, "like");
  return {photo.width, photo.height};
}

py::array_t<bool> load_mask(const py::handle& path_obj, const py::handle& like, const PythonModel* model,
                            std::optional<int> resize, std::optional<int> crop, bool invert) {
  const std::string path = path_argument(path_obj);
  if (model) {
    resize = resize.value_or(model->model().meta().resize_size);
    crop = crop.value_or(model->model().meta().input_size);
  }
  if (!resize || !crop)
    throw InputError("load_mask", "give model= (its resize and crop are the photo's) or both resize= and crop=");
  at_least(*resize, 1, "resize"), at_least(*crop, 1, "crop");
  const auto [width, height] = photo_size(like);
  return mask_to_numpy(reading_files([&] {
    py::gil_scoped_release no_gil;
    return mask_from_png(path, width, height, *resize, *crop, invert);
  }));
}

}  // namespace

void bind_masks(py::module_& m) {
  py::module_ masks = m.def_submodule("masks", "Mask builders: each returns bool [H, W], True = visible.");
  masks.def("patches", &patches, py::arg("h"), py::arg("w"), py::arg("patch"), py::arg("remove"), py::arg("seed") = 0,
            "round(remove * #patches) of the patch x patch squares removed, in a seeded random order (the studies').");
  masks.def("segments", &segments, py::arg("labels"), py::arg("removed"),
            "The pixels of the segments `removed` (ids of labels [H,W]) removed.");
  masks.def("rectangle", &rectangle, py::arg("h"), py::arg("w"), py::arg("x0"), py::arg("y0"), py::arg("x1"),
            py::arg("y1"), "The rectangle [x0,x1) x [y0,y1) removed.");
  masks.def("disk", &disk, py::arg("h"), py::arg("w"), py::arg("cx"), py::arg("cy"), py::arg("r"),
            "The disk of radius r around pixel centre (cx, cy) removed.");
  m.def("load_mask", &load_mask, py::arg("path"), py::arg("like"), py::arg("model") = nullptr,
        py::arg("resize") = py::none(), py::arg("crop") = py::none(), py::arg("invert") = false,
        R"(A mask PNG drawn on the photo `like` (a path or its uint8 bytes; non-zero = visible, or removed
with invert), through the same Resize + CenterCrop as the photo (the model's, or resize/crop),
nearest-neighbour, as `lmask classify --mask` does -> bool [crop, crop].)");
}

}  // namespace lmask::python
