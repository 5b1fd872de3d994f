// error.h — the one exception lmask throws for bad input.
//
// Its message is a single line for the user: the file (or option) and what is
// wrong with it, e.g. "weights.h5: key 'fc.weight': expected shape [1000,2048],
// found [10,2048]". The CLI prints it and exits non-zero.
#pragma once

#include <stdexcept>
#include <string>

namespace lmask {

class InputError : public std::runtime_error {
 public:
  InputError(const std::string& where, const std::string& problem)
      : std::runtime_error(where + ": " + problem) {}
};

}  // namespace lmask
