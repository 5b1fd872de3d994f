// model_binding.cpp — lmask.Model: loading, the model's metadata, and its
// batched forwards (logits, probs, features) clean or under any masking
// method, plus the CLI's preprocessing.
//
// A call converts its arguments (GIL held), then runs its batches with the
// GIL released (PythonModel::run), writing each batch's rows straight into
// the numpy result.
#include <algorithm>
#include <memory>
#include <optional>
#include <string>

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "arrays.h"
#include "bindings.h"
#include "errors.h"
#include "lmask/error.h"
#include "lmask/finite_logits.h"
#include "lmask/image.h"
#include "lmask/lime_model.h"
#include "lmask/masking.h"
#include "python_model.h"

namespace lmask::python {

namespace {

namespace py = pybind11;

enum class Output { logits, probs, features };

// images [N,3,H,W] (masks [N,1,H,W] / [N,H,W] or None) -> [N, classes] or
// [N, features], float32, `batch` rows per forward.
py::array_t<float> run_rows(const PythonModel& pm, const py::handle& images_obj, const py::handle& masks_obj,
                            const std::string& method_name, int batch_arg, Output output) {
  const Model& model = pm.model();
  const ImageArray images = image_array(images_obj, "images");
  std::optional<MaskArray> masks;
  if (!masks_obj.is_none()) masks = mask_array(masks_obj, "masks");
  const int rows = masks ? paired_rows(images, *masks) : images.n();
  const int batch = at_least(batch_arg, 1, "batch");
  // The name is checked even without masks: a typo fails now, not on the first masked call.
  const std::unique_ptr<MaskingMethod> method = make_masking_method(method_name);
  const int width = output == Output::features ? model.feature_channels() : model.num_classes();
  if (width == 0)
    throw InputError(model.meta().path, "the model's graph marks no features node, so it has no features()");

  py::array_t<float> out({py::ssize_t(rows), py::ssize_t(width)});
  float* dst = out.mutable_data();
  pm.run([&] {
    if (images.n() == 1) check_pixels(images.images(0, 1), "images", 0);  // once, not per copy
    for (int first = 0; first < rows; first += batch) {
      const int n = std::min(batch, rows - first);
      const Tensor x = images.images(first, n);
      if (images.n() > 1) check_pixels(x, "images", first);
      Tensor y;
      if (masks) {
        const Mask m = masks->masks(first, n);
        y = output == Output::features ? method->features(model, x, m) : method->logits(model, x, m);
      } else {
        y = output == Output::features ? clean_features(model, x) : clean_logits(model, x);
      }
      if (output != Output::features) require_finite_logits(y, model.meta().path);
      float* row = dst + std::size_t(first) * width;
      if (output == Output::probs) {
        for (int i = 0; i < n; ++i) {
          const std::vector<double> p = softmax(y, i);
          std::transform(p.begin(), p.end(), row + std::size_t(i) * width, [](double v) { return float(v); });
        }
      } else {
        std::copy(y.data(), y.data() + std::size_t(n) * width, row);
      }
    }
  });
  return out;
}

// Model.preprocess: a path (decoded as the CLI does) or uint8 bytes.
py::array_t<float> preprocess(const PythonModel& pm, const py::handle& source) {
  const Weights& meta = pm.model().meta();
  const bool is_path = py::isinstance<py::str>(source) || py::hasattr(source, "__fspath__");
  Tensor img01;
  if (is_path) {
    const std::string path = path_argument(source);
    img01 = reading_files([&] {
      py::gil_scoped_release no_gil;
      return preprocess_01(read_image(path), meta.resize_size, meta.input_size, path);
    });
  } else {
    const ImageU8 picture = picture_from(source, "image");
    py::gil_scoped_release no_gil;
    img01 = preprocess_01(picture, meta.resize_size, meta.input_size, "image");
  }
  return tensor_to_numpy(img01, {1, 3, img01.h(), img01.w()});
}

std::string repr(const PythonModel& pm) {
  const Model& model = pm.model();
  return "lmask.Model('" + model.meta().path + "', arch='" + model.meta().arch + "', backend='" +
         model.backend_name() + "', threads=" + std::to_string(pm.threads()) + ", classes=" +
         std::to_string(model.num_classes()) + ", input_size=" + std::to_string(model.meta().input_size) + ")";
}

}  // namespace

// Model.logits / probs / features: one signature, one run_rows.
void def_rows(py::class_<PythonModel>& model, const char* name, Output output, const char* doc) {
  model.def(
      name,
      [output](const PythonModel& pm, const py::handle& images, const py::handle& masks, const std::string& method,
               int batch) { return run_rows(pm, images, masks, method, batch, output); },
      py::arg("images"), py::arg("masks") = py::none(), py::arg("method") = "layer", py::arg("batch") = 32, doc);
}

void bind_model(py::module_& m) {
  py::class_<PythonModel> model(m, "Model", R"(A network loaded from an lmask weight file (HDF5 or .lmw).

Model(path, backend="auto", threads=0): backend "auto" (the fastest built),
"native", "onednn" or "cuda"; threads 0 is OpenMP's default. Images are
float32 [N,3,H,W] in [0,1] pixel space: the model normalises them itself.)");
  model.def(py::init([](const py::handle& path, const std::string& backend, int threads) {
             const std::string file = path_argument(path);
             py::gil_scoped_release no_gil;
             return std::make_unique<PythonModel>(file, backend, threads);
           }),
           py::arg("path"), py::arg("backend") = "auto", py::arg("threads") = 0)
      .def_property_readonly("num_classes", [](const PythonModel& pm) { return pm.model().num_classes(); })
      .def_property_readonly("class_names", [](const PythonModel& pm) { return pm.model().meta().class_names; })
      .def_property_readonly("input_size", [](const PythonModel& pm) { return pm.model().meta().input_size; })
      .def_property_readonly("resize_size", [](const PythonModel& pm) { return pm.model().meta().resize_size; })
      .def_property_readonly("mean", [](const PythonModel& pm) { return py::tuple(py::cast(pm.model().meta().mean)); })
      .def_property_readonly("std", [](const PythonModel& pm) { return py::tuple(py::cast(pm.model().meta().std)); })
      .def_property_readonly("arch", [](const PythonModel& pm) { return pm.model().meta().arch; })
      .def_property_readonly("path", [](const PythonModel& pm) { return pm.model().meta().path; })
      .def_property_readonly("backend", [](const PythonModel& pm) { return pm.model().backend_name(); })
      .def_property_readonly("threads", &PythonModel::threads)
      .def_property_readonly("feature_channels", [](const PythonModel& pm) { return pm.model().feature_channels(); })
      .def("preprocess", &preprocess, py::arg("image"),
           R"(A PNG/JPEG path, or uint8 RGB [H,W,3] / grey [H,W] -> float32 [1,3,S,S] in [0,1]:
the CLI's Pillow-exact Resize(resize_size) + CenterCrop(input_size).)")
      .def("__repr__", &repr);
  def_rows(model, "logits", Output::logits,
           R"(images [N,3,H,W] float32 in [0,1], masks [N,1,H,W] / [N,H,W] (non-zero = visible) or None
-> logits float32 [N, num_classes]. One image or one mask may stand for all N.)");
  def_rows(model, "probs", Output::probs, "As logits, then the softmax: float32 [N, num_classes].");
  def_rows(model, "features", Output::features,
           "As logits, but the pooled penultimate features: float32 [N, feature_channels].");
}

}  // namespace lmask::python
