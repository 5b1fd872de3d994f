// output_lock.cpp — see output_lock.h.
#include "output_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "lmask/error.h"

namespace lmask::study {

OutputLock::OutputLock(const std::string& dir, const std::string& set, const std::string& what)
    : path_((std::filesystem::path(dir) / ("." + set + ".lock")).string()) {
  // A holder removes the file before it lets go, so a lock won on a file
  // that is no longer at path_ is not this set's lock: try the new one.
  for (int attempt = 0; attempt < 100; ++attempt) {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd_ < 0) throw InputError(path_, "cannot create the lock file (" + std::string(std::strerror(errno)) + ")");
    // Not waiting: a second run should hear at once, not queue behind hours of work.
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      const int error = errno;
      ::close(fd_);
      if (error == EWOULDBLOCK)
        throw InputError(dir, "another lmask process is writing " + what +
                                  " results here; wait for it or use another --out");
      throw InputError(path_, "cannot lock (" + std::string(std::strerror(error)) + ")");
    }
    struct stat held {}, named {};
    if (::fstat(fd_, &held) == 0 && ::stat(path_.c_str(), &named) == 0 && held.st_dev == named.st_dev &&
        held.st_ino == named.st_ino)
      return;
    ::close(fd_);
  }
  throw InputError(path_, "the lock file keeps being replaced; is another lmask process starting over and over?");
}

OutputLock::~OutputLock() {
  ::unlink(path_.c_str());  // while still held: see the constructor
  ::close(fd_);
}

}  // namespace lmask::study
