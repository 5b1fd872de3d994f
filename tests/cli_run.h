// cli_run.h — the built `lmask` run from a test: its exit status, stdout and
// stderr, and the check of the bad-input contract (exactly one line on
// stderr, `lmask: error: FILE: problem`, exit status 2).
#pragma once

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include <doctest/doctest.h>

#include "temp_dir.h"

namespace lmask::testing {

struct CliRun {
  int status = -1;  // the exit status; -1 when killed by a signal
  std::string out, err;
};

// `lmask ARGS` (ARGS shell-quoted by the caller) with one thread, so CTest's
// parallel jobs do not oversubscribe the cores, and under `timeout 20`, so
// that a run that would hang fails instead (status 124). `shell_setup` runs
// first in the same shell (a ulimit, a trap).
inline CliRun run_cli(const TempDir& tmp, const std::string& args, const std::string& shell_setup = "") {
  const std::string out = tmp.file("stdout"), err = tmp.file("stderr");
  const std::string cmd = shell_setup + (shell_setup.empty() ? "" : "; ") + "OMP_NUM_THREADS=1 timeout 20 " +
                          std::string(LMASK_CLI) + " " + args + " >" + out + " 2>" + err;
  const int raw = std::system(cmd.c_str());
  CliRun r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

// The bad-input contract, with `where` the file the line must name.
inline void check_one_line_error(const CliRun& r, const std::string& where) {
  CAPTURE(r.err);
  CHECK(r.status == 2);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(r.err.rfind("lmask: error: " + where + ": ", 0) == 0);
}

}  // namespace lmask::testing
