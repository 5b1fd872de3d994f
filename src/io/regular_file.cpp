// regular_file.cpp — see lmask/regular_file.h.
#include "lmask/regular_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "lmask/error.h"

namespace lmask {

std::string file_kind(unsigned mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

namespace {

[[noreturn]] void refuse_kind(const std::string& path, unsigned mode) {
  throw InputError(path, "is " + file_kind(mode) + ", not a regular file");
}

}  // namespace

RegularFile::RegularFile(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd_ < 0) {
    const int err = errno;
    throw InputError(path, err == ENOENT ? "no such file"
                                         : "cannot open (" + std::string(std::strerror(err)) + ")");
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    const unsigned mode = st.st_mode;
    ::close(fd_);
    fd_ = -1;
    refuse_kind(path, mode);
  }
  size_ = static_cast<std::uint64_t>(st.st_size);
  // Reads of a regular file never block anyway; clearing the flag keeps
  // stdio and zlib from ever seeing EAGAIN.
  const int flags = ::fcntl(fd_, F_GETFL);
  if (flags >= 0) ::fcntl(fd_, F_SETFL, flags & ~O_NONBLOCK);
}

RegularFile::~RegularFile() {
  if (fd_ >= 0) ::close(fd_);
}

int RegularFile::release() {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

std::string read_regular_file(const std::string& path, std::uint64_t max_bytes) {
  RegularFile file(path);
  auto too_large = [&] {
    return InputError(path, "is larger than the limit of " + std::to_string(max_bytes) + " bytes for this file");
  };
  if (file.size() > max_bytes) throw too_large();
  std::string bytes;
  bytes.reserve(static_cast<std::size_t>(file.size()));
  char chunk[1 << 16];
  for (;;) {
    const ssize_t got = ::read(file.fd(), chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw InputError(path, "cannot read (" + std::string(std::strerror(errno)) + ")");
    if (got == 0) return bytes;
    if (bytes.size() + std::size_t(got) > max_bytes) throw too_large();
    bytes.append(chunk, std::size_t(got));
  }
}

void require_regular_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    throw InputError(path, err == ENOENT ? "no such file"
                                         : "cannot open (" + std::string(std::strerror(err)) + ")");
  }
  if (!S_ISREG(st.st_mode)) refuse_kind(path, st.st_mode);
}

}  // namespace lmask
