#include "exit_on.h"

#include <fmt/core.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <new>
#include <string>
#include <system_error>

#include "lmask/error.h"

namespace lmask::cli {

namespace {

// Prints "lmask: error: <where>: <problem>" with every control character
// escaped, and returns `status`.
int fail(const std::string& where_and_problem, int status) {
  fmt::print(stderr, "lmask: error: {}\n", one_line(where_and_problem));
  std::fflush(stderr);
  return status;
}

int stdout_failed(int err) {
  return fail(std::string("stdout: cannot write (") + (err ? std::strerror(err) : "write error") + ")", 2);
}

}  // namespace

int exit_on_option_error(const CLI::ParseError& e) {
  // CLI11 writes a failed check (and a missing value) as "<option>: <problem>":
  // that option is the place to name. Other errors name theirs in the text.
  const std::string what = e.what();
  const std::size_t colon = what.find(": ");
  const bool option_first = colon != std::string::npos && what.find(' ') == colon + 1 &&
                            (what[0] == '-' || dynamic_cast<const CLI::ValidationError*>(&e));
  return fail(option_first ? what : "command line: " + what, 2);
}

int exit_on_exception(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const InputError& error) {
    return fail(error.what(), 2);
  } catch (const std::bad_alloc&) {
    return fail("memory: out of memory (std::bad_alloc); a smaller --batch or input size may fit", 2);
  } catch (const std::filesystem::filesystem_error& error) {
    const std::string path = error.path1().string();
    return fail((path.empty() ? "filesystem" : path) + ": " + error.what(), 2);
  } catch (const std::system_error& error) {
    // fmt::print throws this when stdout cannot take the bytes.
    if (std::ferror(stdout)) return stdout_failed(error.code().value());
    return fail(std::string("internal error: ") + error.what(), 1);
  } catch (const std::exception& error) {
    return fail(std::string("internal error: ") + error.what(), 1);
  } catch (...) {
    return fail("internal error: an exception that is not a std::exception", 1);
  }
}

int exit_after_stdout() {
  errno = 0;
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) return stdout_failed(errno);
  return 0;
}

}  // namespace lmask::cli
