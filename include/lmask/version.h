// version.h — the lmask version (CMake's project version), recorded with results.
#pragma once

namespace lmask {

const char* version();  // e.g. "0.1.0"

}  // namespace lmask
