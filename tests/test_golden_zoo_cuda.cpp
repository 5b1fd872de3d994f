// test_golden_zoo_cuda.cpp — the zoo CNNs whole on the CUDA backend
// (lmask_cuda_tests; skipped without a GPU): SqueezeNet 1.1, DenseNet-121,
// MobileNetV3-Large, EfficientNet-B0 and ResNet-18 with the golden random
// weights (../shared/golden/zoo), on the non-square input of zoo_cases.h5
// (226 x 250, 3 images, a 40% patch mask: SqueezeNet's ceil-mode windows
// hang over), against the authors' PyTorch logits (clean, layer masking in
// both executions) and against native (the other fills, all visible, all
// removed). Tolerance the golden zoo's (zoo_rows.h). One case per
// architecture, each needing only zoo_cases.h5 (4 MB) and its own weights
// (2.5 to 23 MB), so a GPU run runs those it could carry
// (tools/gpu_check.sh); the 224 x 224 cases of cases.h5 run on cuda in
// lmask_tests' "golden zoo" cases, which take every available backend.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "golden.h"
#include "lmask/model.h"
#include "zoo_rows.h"

using namespace lmask;
using lmask::testing::check_rows;
using lmask::testing::golden_path;
using lmask::testing::read_tensor;

namespace {

void check_arch(const std::string& arch, const Hdf5File& cases) {
  const Tensor x = read_tensor(cases, "nonsquare/input");
  const Mask m(read_tensor(cases, "nonsquare/mask"));
  const std::string weights = golden_path("zoo/" + arch + "_random.h5");
  const Model native = Model::load(weights), model = Model::load(weights, {"cuda"});
  const std::string base = "expected/" + arch + "/";
  const Tensor clean = model.forward(x);
  float worst = check_rows(clean, read_tensor(cases, base + "nonsquare_clean"), arch + " clean vs PyTorch");
  for (Execution e : {Execution::active, Execution::dense}) {
    const std::string what = arch + (e == Execution::active ? " layer active" : " layer dense");
    const LayerMaskingOptions opt{Fill::neighbour_average, e};
    const Tensor got = model.forward_masked(x, m, opt);
    worst = std::max(worst, check_rows(got, read_tensor(cases, base + "nonsquare_layer"), what + " vs PyTorch"));
    worst = std::max(worst, check_rows(got, native.forward_masked(x, m, opt), what + " vs native"));
  }
  for (Fill fill : {Fill::none, Fill::renorm}) {
    const LayerMaskingOptions opt{fill, Execution::active};
    const std::string what = arch + (fill == Fill::none ? " fill none" : " renorm") + " vs native";
    worst = std::max(worst, check_rows(model.forward_masked(x, m, opt), native.forward_masked(x, m, opt), what));
  }
  for (Execution e : {Execution::active, Execution::dense}) {
    const LayerMaskingOptions opt{Fill::neighbour_average, e};
    const Mask visible = Mask::visible(x.n(), x.h(), x.w()), removed = Mask::removed(x.n(), x.h(), x.w());
    worst = std::max(worst, check_rows(model.forward_masked(x, visible, opt), clean, arch + " all visible vs clean"));
    worst = std::max(worst, check_rows(model.forward_masked(x, removed, opt), native.forward_masked(x, removed, opt),
                                       arch + " all removed vs native"));
  }
  MESSAGE(arch << " on cuda, non-square input: worst |diff|/tolerance " << worst);
}

}  // namespace

#define CUDA_ZOO_CASE(arch)                                                                    \
  TEST_CASE("cuda: golden zoo " arch " non-square, clean and layer-masked, vs PyTorch and native") { \
    check_arch(arch, Hdf5File(golden_path("zoo/zoo_cases.h5")));                                  \
  }

CUDA_ZOO_CASE("squeezenet1_1")
CUDA_ZOO_CASE("densenet121")
CUDA_ZOO_CASE("mobilenet_v3_large")
CUDA_ZOO_CASE("efficientnet_b0")
CUDA_ZOO_CASE("resnet18")
