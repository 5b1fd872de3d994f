// error_of.h — the message of the exception a test provokes, for checks on
// what an error says.
#pragma once

#include <string>

#include "lmask/error.h"

namespace lmask::testing {

// The message of the exception of type E that fn throws ("" when it throws none).
template <class E = InputError, class Fn>
std::string error_of(Fn fn) {
  try {
    fn();
  } catch (const E& e) {
    return e.what();
  }
  return "";
}

}  // namespace lmask::testing
