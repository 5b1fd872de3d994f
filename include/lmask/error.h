// error.h — the one exception lmask throws for bad input.
//
// Its message is a single line for the user: the file (or option) and what is
// wrong with it, e.g. "weights.h5: key 'fc.weight': expected shape [1000,2048],
// found [10,2048]". The CLI prints it and exits with status 2. A file name or
// an attribute from a file may hold a newline or a terminal escape, so the
// message shows every control character as an escape (one_line): it stays
// one line whatever the input.
#pragma once

#include <stdexcept>
#include <string>

namespace lmask {

// `text` with each control character written as an escape: \n, \r, \t,
// others (and DEL) as \xNN. Printable bytes, UTF-8 included, are kept.
std::string one_line(const std::string& text);

class InputError : public std::runtime_error {
 public:
  InputError(const std::string& where, const std::string& problem)
      : std::runtime_error(one_line(where + ": " + problem)) {}
};

}  // namespace lmask
