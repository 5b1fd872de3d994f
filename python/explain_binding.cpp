// explain_binding.cpp — explanations over segments: lmask.lime (the lime
// study's LIME of one image), lmask.ablate (Captum FeatureAblation-style
// logit drops), the segmentations they take (segment_grid, slic) and the
// perturbation matrix LIME draws. Each runs in C++ with the GIL released:
// no Python between its forwards.
#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <string>

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "arrays.h"
#include "bindings.h"
#include "lmask/error.h"
#include "lmask/lime.h"
#include "lmask/lime_model.h"
#include "lmask/masking.h"
#include "lmask/segment_ablation.h"
#include "lmask/segmentation.h"
#include "lmask/study.h"
#include "python_model.h"

namespace lmask::python {

namespace {

namespace py = pybind11;

// What lime and ablate share: one checked image, its segments, the method
// (segment-mean too: it exists where segments do) and the target class.
struct Explained {
  ImageArray image;
  Segmentation segments;
  std::unique_ptr<MaskingMethod> method;
  std::optional<int> target;  // none: the clean model's top-1, found in the forward
  int batch = 32;
};

Explained explained(const PythonModel& pm, const py::handle& image, const py::handle& segments,
                    const std::string& method, const py::handle& target, int batch) {
  Explained e{image_array(image, "image", /*one=*/true), {}, nullptr, std::nullopt, at_least(batch, 1, "batch")};
  e.segments = segmentation_from(segments, e.image.h(), e.image.w(), "segments");
  e.method = method == "segment-mean" ? make_segment_mean_method(e.segments) : make_masking_method(method);
  if (!target.is_none()) {
    const long long cls = target.cast<long long>();
    const int classes = pm.model().num_classes();
    if (cls < 0 || cls >= classes)
      throw InputError("target", "class " + std::to_string(cls) + " is not one of the model's 0.." +
                                     std::to_string(classes - 1));
    e.target = int(cls);
  }
  return e;
}

// The class explained, with the GIL released: the given one, or the clean
// model's top-1 (the first maximum, as the lime study takes it).
int target_class(const PythonModel& pm, const Explained& e, const Tensor& img01) {
  if (e.target) return *e.target;
  const Tensor logits = clean_logits(pm.model(), img01);
  const float* z = logits.image(0);
  return int(std::max_element(z, z + logits.c()) - z);
}

py::array_t<double> to_numpy(const std::vector<double>& v) {
  py::array_t<double> out(py::ssize_t(v.size()));
  std::copy(v.begin(), v.end(), out.mutable_data());
  return out;
}

py::array_t<double> lime(const PythonModel& pm, const py::handle& image, const py::handle& segments, int samples_arg,
                         std::uint64_t seed, const std::string& method, const py::handle& target, int batch) {
  const Explained e = explained(pm, image, segments, method, target, batch);
  const int samples = at_least(samples_arg, 2, "samples");  // the intact image and one perturbation at least
  const LimeExplanation fit = pm.run([&] {
    const Tensor img01 = e.image.images(0, 1);
    check_pixels(img01, "image", 0);
    const int cls = target_class(pm, e, img01);
    // The lime study's steps for one image (its seed there is seed + the image's index).
    const std::vector<std::uint8_t> z = perturbation_matrix(samples, e.segments.count, kLimeKeepProb, seed);
    const MaskTarget probability = class_probability_target(pm.model(), *e.method, img01, cls);
    return explain_with(probability, e.segments, z, samples, kLimeKernelWidth, kLimeAlpha, e.batch);
  });
  return to_numpy(fit.coefficients);
}

py::array_t<double> ablate(const PythonModel& pm, const py::handle& image, const py::handle& segments,
                           const std::string& method, const py::handle& target, int batch) {
  const Explained e = explained(pm, image, segments, method, target, batch);
  return to_numpy(pm.run([&] {
    const Tensor img01 = e.image.images(0, 1);
    check_pixels(img01, "image", 0);
    return segment_ablation(pm.model(), *e.method, img01, e.segments, target_class(pm, e, img01), e.batch);
  }));
}

py::array_t<std::int32_t> segment_grid(int h, int w, int patch) {
  check_picture_size(h, w);
  at_least(patch, 1, "patch");
  return labels_to_numpy(grid_segments(h, w, patch));
}

py::array_t<std::int32_t> slic(const py::handle& image, int n_segments, double compactness, int max_iter) {
  const ImageArray img = image_array(image, "image", /*one=*/true);
  at_least(n_segments, 1, "n_segments"), at_least(max_iter, 1, "max_iter");
  if (!(compactness > 0) || !std::isfinite(compactness))
    throw InputError("compactness", "must be a positive number, got " + std::to_string(compactness));
  Segmentation seg;
  {
    py::gil_scoped_release no_gil;
    const Tensor img01 = img.images(0, 1);
    check_pixels(img01, "image", 0);
    seg = slic_segments(img01, n_segments, compactness, max_iter);
  }
  return labels_to_numpy(seg);
}

py::array_t<std::uint8_t> perturbations(int samples, int segments, std::uint64_t seed, double keep_prob) {
  at_least(samples, 1, "samples"), at_least(segments, 1, "segments");
  if (!(keep_prob >= 0 && keep_prob <= 1)) throw InputError("keep_prob", "must be in [0, 1], got " + std::to_string(keep_prob));
  const std::vector<std::uint8_t> z = perturbation_matrix(samples, segments, keep_prob, seed);
  py::array_t<std::uint8_t> out({py::ssize_t(samples), py::ssize_t(segments)});
  std::copy(z.begin(), z.end(), out.mutable_data());
  return out;
}

}  // namespace

void bind_explainers(py::module_& m) {
  m.def("lime", &lime, py::arg("model"), py::arg("image"), py::arg("segments"), py::arg("samples") = kLimeDefaultSamples,
        py::arg("seed") = 0, py::arg("method") = "layer", py::arg("target") = py::none(), py::arg("batch") = 32,
        R"(LIME of one image [1,3,H,W] over segments [H,W] (ids 0..K-1) -> coefficients float64 [K].

The lime study's LIME: perturbations(samples, K, seed), each segment kept with
probability 0.5, row 0 the intact image; the softmax probability of `target`
(default: the clean model's top-1) under `method`; kernel width 0.25 on cosine
distance, ridge alpha 1. `lmask study lime` uses seed + the image's index.)");
  m.def("ablate", &ablate, py::arg("model"), py::arg("image"), py::arg("segments"), py::arg("method") = "layer",
        py::arg("target") = py::none(), py::arg("batch") = 32,
        R"(Captum FeatureAblation-style: for each segment, the drop of the target's logit when that
segment alone is removed by `method` -> float64 [K]. Target default: the clean model's top-1.)");
  m.def("segment_grid", &segment_grid, py::arg("h"), py::arg("w"), py::arg("patch"),
        "patch x patch squares, ids row-major (the last row/column cut short) -> int32 [h, w].");
  m.def("slic", &slic, py::arg("image"), py::arg("n_segments"), py::arg("compactness") = kSlicCompactness,
        py::arg("max_iter") = 10, "SLIC superpixels of one image [1,3,H,W] in [0,1] -> int32 [H, W], ids 0..K-1.");
  m.def("perturbations", &perturbations, py::arg("samples"), py::arg("segments"), py::arg("seed") = 0,
        py::arg("keep_prob") = kLimeKeepProb,
        "LIME's perturbation matrix uint8 [samples, segments], 1 = kept, row 0 all ones (the study's, seeded).");
  m.def("default_patch_size", &default_patch_size, py::arg("input_size"),
        "The studies' patch size: 16 px at 224 px, scaled to the model.");
}

}  // namespace lmask::python
