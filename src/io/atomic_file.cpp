// atomic_file.cpp — write to a temporary name beside the target, then rename.
#include "lmask/atomic_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "lmask/error.h"

namespace lmask {

std::string temporary_path_for(const std::string& path) {
  return path + ".tmp-" + std::to_string(::getpid());
}

void finish_temporary(const std::string& temp, const std::string& path, bool written,
                      const std::string& problem) {
  std::error_code ec;
  if (!written) {
    std::filesystem::remove(temp, ec);
    throw InputError(path, problem);
  }
  std::filesystem::rename(temp, path, ec);
  if (ec) {
    const std::string why = ec.message();
    std::filesystem::remove(temp, ec);
    throw InputError(path, "cannot move the finished temporary file into place (" + why + ")");
  }
}

void write_text_atomically(const std::string& path, const std::string& text) {
  const std::string temp = temporary_path_for(path);
  std::FILE* f = std::fopen(temp.c_str(), "wb");
  if (!f) throw InputError(path, "cannot create file (" + std::string(std::strerror(errno)) + ")");
  const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  // fclose flushes: a full disk shows up here, not in fwrite.
  const bool closed = std::fclose(f) == 0;
  finish_temporary(temp, path, written && closed, "cannot write file (disk full?)");
}

}  // namespace lmask
