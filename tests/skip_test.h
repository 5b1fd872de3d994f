// skip_test.h — a test case that cannot run in this build says so instead of
// passing: `return lmask::testing::skip_test("why");` prints the reason and
// marks the case skipped. test_main.cpp then exits with kSkipReturnCode when
// every case it ran was skipped and none failed, which CTest (one process per
// case, SKIP_RETURN_CODE in CMakeLists.txt) reports as "Skipped", not passed.
#pragma once

#include <string>

namespace lmask::testing {

constexpr int kSkipReturnCode = 77;  // SKIP_RETURN_CODE of lmask_tests in CMakeLists.txt

// Call as the case's last statement: `return skip_test(reason);`.
void skip_test(const std::string& reason);

}  // namespace lmask::testing
