// regular_file.h — opening the files a user names, so that no file can hang
// or flood a run: only regular files are read.
//
// Opening a FIFO for reading blocks until some process writes to it, a
// character device such as /dev/zero never ends, and a directory reads as
// nothing. Every reader of user-named files therefore opens them here: with
// O_NONBLOCK, so that opening a FIFO returns at once, then fstat() on the
// open descriptor (no race with a rename), and only a regular file is kept
// (in blocking mode again). Everything else is an InputError naming the
// file and what it is ("is a FIFO, not a regular file").
#pragma once

#include <cstdint>
#include <string>

namespace lmask {

// A read-only descriptor of a regular file, closed when it goes out of scope.
class RegularFile {
 public:
  explicit RegularFile(const std::string& path);  // InputError: missing, unreadable, not a regular file
  ~RegularFile();
  RegularFile(const RegularFile&) = delete;
  RegularFile& operator=(const RegularFile&) = delete;

  int fd() const { return fd_; }
  std::uint64_t size() const { return size_; }  // at open time
  const std::string& path() const { return path_; }
  // Hands the descriptor over (to fdopen, gzdopen); the caller closes it.
  int release();

 private:
  std::string path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

// The whole of a regular file. InputError when it is not one, cannot be
// read, or holds more than max_bytes (checked before reading, and again
// while reading, in case it grows).
std::string read_regular_file(const std::string& path, std::uint64_t max_bytes);

// For libraries that open files by name (HDF5): InputError unless `path`
// names a regular file now.
void require_regular_file(const std::string& path);

// "a FIFO", "a directory", ... for a stat() mode that is not a regular file.
std::string file_kind(unsigned mode);

}  // namespace lmask
