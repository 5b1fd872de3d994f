// output_lock.cpp — see output_lock.h.
#include "output_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "lmask/error.h"

namespace lmask::study {

OutputLock::OutputLock(const std::string& dir, const std::string& set, const std::string& what) {
  const std::string path = (std::filesystem::path(dir) / ("." + set + ".lock")).string();
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd_ < 0) throw InputError(path, "cannot create the lock file (" + std::string(std::strerror(errno)) + ")");
  // Not waiting: a second run should hear at once, not queue behind hours of work.
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd_);
    if (error == EWOULDBLOCK)
      throw InputError(dir, "another lmask process is writing " + what +
                                " results here; wait for it or use another --out");
    throw InputError(path, "cannot lock (" + std::string(std::strerror(error)) + ")");
  }
}

OutputLock::~OutputLock() { ::close(fd_); }

}  // namespace lmask::study
