// test_main_cuda.cpp — main() of the CUDA backend's tests (lmask_cuda_tests).
//
// Without a visible GPU only the host-code cases run (test suite "host":
// the backend's planning, no device call): it first checks that the backend
// is then refused with a clear InputError and left out of the list of
// backends (which can fail), runs the host cases asked for, and when none
// was asked for prints the reason and exits 77, which CTest reports as
// skipped. Listing the cases (CTest's discovery) always works.
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

unsigned cases_run = 0;  // cases that passed the filters, once the run ends

// Counts the cases a run ran; reports nothing itself.
struct RunCounter final : doctest::IReporter {
  explicit RunCounter(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats& stats) override { cases_run = stats.numTestCasesPassingFilters; }
  void test_case_start(const doctest::TestCaseData&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};
REGISTER_LISTENER("lmask_cuda_run_counter", 1, RunCounter);

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
    lmask::make_backend("cuda", lmask::Graph());
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
  doctest::Context context(argc, argv);
  if (reason.empty() || listing(argc, argv)) return context.run();
  if (check_refusal(reason) != 0) return 1;
  context.addFilter("test-suite", "host");
  const int status = context.run();
  if (status != 0 || cases_run > 0) return status;
  std::printf("SKIPPED: %s (the refusal was checked: \"--backend cuda: %s\")\n", reason.c_str(), reason.c_str());
  return kSkipped;
}
