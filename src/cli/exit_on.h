// exit_on.h — how a run of lmask ends: for each way it can fail, the one
// line on stderr and the exit status; after success, the check that stdout
// was really written.
//
// The README promises `lmask: error: WHERE: problem` on one line and exit
// status 2 for bad input, never a crash. CLI11's own errors (two lines,
// statuses 105-109) and exceptions other than InputError (a bad_alloc, a
// filesystem_error, unescaped text) are mapped to that form here, the
// backstop for whatever the commands and readers did not catch.
#pragma once

#include <CLI/CLI.hpp>

#include <exception>

namespace lmask::cli {

// CLI11's errors for the command line: "lmask: error: --topk: ..." when
// CLI11 names the option first (a failed check, a missing value), else
// "lmask: error: command line: ...". Status 2. (--help is not an error:
// app.exit prints it.)
int exit_on_option_error(const CLI::ParseError& e);

// An exception out of a command. InputError, an allocation that failed and
// a filesystem error are about the input or the machine: status 2. Anything
// else is a bug in lmask: still one line, status 1.
int exit_on_exception(std::exception_ptr e);

// After a command that succeeded: stdout flushed and checked, so that
// `lmask eval > /dev/full` is status 2 and a line, not a silent 0.
int exit_after_stdout();

}  // namespace lmask::cli
