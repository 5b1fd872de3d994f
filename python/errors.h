// errors.h — how lmask's errors reach Python: always as one exception
// carrying the one line the CLI prints after "lmask: error: ", never a crash.
//   a file a call reads is missing, unreadable or damaged  -> OSError
//   an argument is wrong (shape, dtype, method, range)     -> ValueError
//   anything else lmask throws                             -> RuntimeError
// (pybind11's own mapping does the rest: std::invalid_argument -> ValueError,
// std::bad_alloc -> MemoryError.)
#pragma once

#include <stdexcept>
#include <utility>

#include <pybind11/pybind11.h>

#include "lmask/error.h"

namespace lmask::python {

// An InputError raised while reading a file: becomes OSError.
class FileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Runs `read`, which reads files the caller named: its InputError (which
// names the file) is rethrown as a FileError.
template <class Read>
auto reading_files(Read&& read) -> decltype(read()) {
  try {
    return read();
  } catch (const InputError& e) {
    throw FileError(e.what());
  }
}

// Installs the translation above in the module.
void register_error_translation();

}  // namespace lmask::python
