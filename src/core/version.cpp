// version.cpp — the version string, set by CMake at build time.
#include "lmask/version.h"

namespace lmask {

const char* version() { return LMASK_VERSION; }

}  // namespace lmask
