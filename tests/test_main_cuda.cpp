// test_main_cuda.cpp — main() of the CUDA backend's tests (lmask_cuda_tests).
//
// Without a visible GPU nothing can run: after checking that the backend is
// then refused with a clear InputError and left out of the list of
// backends (which can fail), it prints the reason and exits 77, which CTest
// reports as skipped. Listing the cases (CTest's discovery) always works.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "cuda_device.h"
#include "lmask/backend.h"
#include "lmask/error.h"

namespace {

constexpr int kSkipped = 77;  // SKIP_RETURN_CODE in CMakeLists.txt

bool listing(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--list", 0) == 0 || a.rfind("-ltc", 0) == 0 || a.rfind("-lts", 0) == 0 ||
        a == "--help" || a == "-h")
      return true;
  }
  return false;
}

// Without a device: "cuda" must not be offered, and asking for it must say why.
int check_refusal(const std::string& reason) {
  const auto built = lmask::available_backends();
  if (std::find(built.begin(), built.end(), "cuda") != built.end()) {
    std::printf("FAILED: no CUDA device, yet available_backends() offers cuda\n");
    return 1;
  }
  try {
    lmask::make_graph_backend("cuda", lmask::LayerGraph());
  } catch (const lmask::InputError& e) {
    if (std::string(e.what()) == "--backend cuda: " + reason) return 0;
    std::printf("FAILED: unexpected message: %s\n", e.what());
    return 1;
  }
  std::printf("FAILED: --backend cuda without a device was not refused\n");
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string reason = lmask::backends::cuda_unavailable_reason();
  if (!reason.empty() && !listing(argc, argv)) {
    if (check_refusal(reason) != 0) return 1;
    std::printf("SKIPPED: %s (the refusal was checked: \"--backend cuda: %s\")\n", reason.c_str(),
                reason.c_str());
    return kSkipped;
  }
  doctest::Context context(argc, argv);
  return context.run();
}
