// atomic_file.cpp — write to a temporary name beside the target, then rename;
// a set of files renamed together once all are written.
#include "lmask/atomic_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "lmask/error.h"

namespace lmask {

namespace fs = std::filesystem;

std::string temporary_path_for(const std::string& path) {
  return path + ".tmp-" + std::to_string(::getpid());
}

void finish_temporary(const std::string& temp, const std::string& path, bool written,
                      const std::string& problem) {
  std::error_code ec;
  if (!written) {
    fs::remove(temp, ec);
    throw InputError(path, problem);
  }
  fs::rename(temp, path, ec);
  if (ec) {
    const std::string why = ec.message();
    fs::remove(temp, ec);
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

FileSet::~FileSet() {
  std::error_code ec;
  for (const auto& file : files_) fs::remove(file.first, ec);  // gone already once committed
}

void FileSet::add(const std::string& path, const std::function<void(const std::string&)>& write) {
  // A name of its own, beside the target: the writer's own temporary
  // (write_text_atomically, write_png) is renamed to it, not to `path`.
  const std::string staged = path + ".set-" + std::to_string(::getpid());
  files_.emplace_back(staged, path);
  try {
    write(staged);
  } catch (const InputError& e) {
    const std::string message = e.what(), prefix = one_line(staged) + ": ";
    if (message.rfind(prefix, 0) != 0) throw;
    throw InputError(path, message.substr(prefix.size()));
  }
}

void FileSet::add_text(const std::string& path, const std::string& text) {
  add(path, [&](const std::string& name) { write_text_atomically(name, text); });
}

void FileSet::commit() {
  if (files_.empty()) return;
  std::error_code ec;
  fs::remove(files_.back().second, ec);  // the marker: absent until the set is whole
  if (ec) throw InputError(files_.back().second, "cannot replace (" + ec.message() + ")");
  for (const auto& [staged, path] : files_) {
    fs::rename(staged, path, ec);
    if (ec) throw InputError(path, "cannot move the finished temporary file into place (" + ec.message() + ")");
  }
}

}  // namespace lmask
