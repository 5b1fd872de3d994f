// golden.h — where the tests find ../shared/golden and the built tools.
//
// The golden directory is required: a missing one fails the test loudly
// (CI has it), it is never skipped. LMASK_GOLDEN overrides the location.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "lmask/hdf5_file.h"
#include "lmask/mask.h"
#include "lmask/model.h"
#include "lmask/resnet.h"
#include "lmask/tensor.h"

namespace lmask::testing {

inline std::string golden_dir() {
  const char* env = std::getenv("LMASK_GOLDEN");
  return env ? env : LMASK_GOLDEN_DIR;
}

inline std::string golden_path(const std::string& file) {
  std::string path = golden_dir() + "/" + file;
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    std::fclose(f);
  } else {
    FAIL("golden file missing: " << path << " (tests need ../shared/golden; set LMASK_GOLDEN)");
  }
  return path;
}

// The golden ResNet-50 as the ResNet builder makes it (BatchNorm folded),
// for the tests of the builder itself; loaded once per test binary.
inline const ResNet& golden_net() {
  static const ResNet net = ResNet::load(golden_path("resnet50_random.h5"));
  return net;
}

// The same network as a Model, running natively: what every test not of
// the ResNet builder itself goes through. Loaded once per test binary.
inline const Model& golden_model() {
  static const Model model = Model::load(golden_path("resnet50_random.h5"));
  return model;
}

// The golden cases file (inputs, masks, PyTorch's outputs), opened once.
inline const Hdf5File& golden_cases() {
  static const Hdf5File f(golden_path("cases.h5"));
  return f;
}

// Reads a dataset of rank <= 4 into an NCHW tensor, right-aligning its dims:
// [A,B] -> [A,B,1,1] is NOT used; instead rank-2 [N,C] -> [N,C,1,1],
// rank-3 [C,H,W] -> [1,C,H,W], rank-4 as is.
inline Tensor read_tensor(const Hdf5File& f, const std::string& name) {
  auto d = f.dims(name);
  Shape s;
  if (d.size() == 4) s = {int(d[0]), int(d[1]), int(d[2]), int(d[3])};
  else if (d.size() == 3) s = {1, int(d[0]), int(d[1]), int(d[2])};
  else if (d.size() == 2) s = {int(d[0]), int(d[1]), 1, 1};
  else if (d.size() == 1) s = {1, int(d[0]), 1, 1};
  else FAIL("unsupported rank for " << name);
  auto v = f.read_floats(name);
  Tensor t(s);
  std::copy(v.begin(), v.end(), t.data());
  return t;
}

// cases.h5 holds 6 mask kinds for each of its 3 images, in this order.
inline const std::vector<std::string>& golden_mask_kinds() {
  static const std::vector<std::string> kinds = {"patch30",     "patch70",     "disk",
                                                 "all_visible", "all_removed", "patch50_8px"};
  return kinds;
}

// One mask kind out of a per-image stack: masks [N,K,H,W] (K kinds per
// image, as the golden files store them) -> Mask [N,1,H,W] of kind `kind`.
inline Mask masks_of_kind(const Tensor& masks, int kind) {
  const Shape s = masks.shape();
  REQUIRE(kind < s.c);
  Tensor m({s.n, 1, s.h, s.w});
  for (int i = 0; i < s.n; ++i)
    std::copy(masks.image(i) + kind * s.plane_size(), masks.image(i) + (kind + 1) * s.plane_size(), m.image(i));
  return Mask(m);
}

// One mask kind out of a per-image dataset of logits: [N,K,C] -> [N,C,1,1].
inline Tensor expected_of_kind(const Hdf5File& f, const std::string& dataset, int kind) {
  const auto d = f.dims(dataset);
  REQUIRE(d.size() == 3);
  REQUIRE(kind < int(d[1]));
  const int n = int(d[0]), kinds = int(d[1]), c = int(d[2]);
  const std::vector<float> all = f.read_floats(dataset);
  Tensor e({n, c, 1, 1});
  for (int i = 0; i < n; ++i)
    std::copy(all.begin() + (i * kinds + kind) * c, all.begin() + (i * kinds + kind + 1) * c, e.image(i));
  return e;
}

// The masks of one kind for the 3 golden images of cases.h5: [3,1,224,224].
inline Mask golden_masks(const Hdf5File& cases, int kind) {
  static const Tensor all = read_tensor(cases, "mask");  // [3,6,224,224]
  return masks_of_kind(all, kind);
}

// expected/<mode> [3,6,1000] of cases.h5 -> [3,1000,1,1] for one mask kind.
inline Tensor golden_expected(const Hdf5File& cases, const std::string& mode, int kind) {
  return expected_of_kind(cases, "expected/" + mode, kind);
}

}  // namespace lmask::testing
