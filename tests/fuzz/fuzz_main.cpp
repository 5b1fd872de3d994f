// fuzz_main.cpp — libFuzzer's entry for one target; CMake builds this file
// once per target with LMASK_FUZZ_ENTRY naming that target's entry point.
#include "fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  lmask::fuzz::LMASK_FUZZ_ENTRY(data, size);
  return 0;
}
