// cli_run.h — running the built `lmask` binary from a test, and the check
// of the bad-input promise (README): exit status 2 and exactly one line
// "lmask: error: WHERE: problem" on stderr.
#pragma once

#include <doctest/doctest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "temp_dir.h"

namespace lmask::testing {

struct Run {
  int status = -1;  // the exit status; -1 when killed by a signal
  std::string out, err;
};

// Runs `lmask ARGS` (ARGS shell-quoted by the caller) with one thread, so
// CTest's parallel jobs do not oversubscribe the cores, and under `timeout`,
// so that a run that hangs fails its test (status 124) instead of stalling
// the suite. stdout goes to `stdout_to` (a file of tmp's when empty);
// `before` is shell run first in the same shell (a `ulimit`).
inline Run lmask_cli_to(const TempDir& tmp, const std::string& args, const std::string& stdout_to, int seconds,
                        const std::string& before = "") {
  const std::string out = stdout_to.empty() ? tmp.file("stdout") : stdout_to, err = tmp.file("stderr");
  const std::string cmd = before + "OMP_NUM_THREADS=1 timeout " + std::to_string(seconds) + " " +
                          std::string(LMASK_CLI) + " " + args + " >" + out + " 2>" + err;
  const int raw = std::system(cmd.c_str());
  Run r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  if (stdout_to.empty()) r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

// The usual run: bounded generously (the slowest CLI tests take seconds).
inline Run lmask_cli(const TempDir& tmp, const std::string& args) { return lmask_cli_to(tmp, args, "", 300); }

// A run that could hang on bad input (a FIFO): 20 s is far more than it needs.
inline Run lmask_cli_bounded(const TempDir& tmp, const std::string& args) { return lmask_cli_to(tmp, args, "", 20); }

inline std::string data_file(const std::string& name) { return std::string(LMASK_SOURCE_DIR) + "/data/" + name; }

// The bad-input contract, with `where` the file (or option) the line must
// name: exit status 2 and exactly one line "lmask: error: WHERE: problem".
inline void check_one_line_error(const Run& r, const std::string& where) {
  CAPTURE(r.err);
  CHECK(r.status == 2);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK((!r.err.empty() && r.err.back() == '\n'));
  CHECK(r.err.rfind("lmask: error: " + where + ": ", 0) == 0);
}

}  // namespace lmask::testing
