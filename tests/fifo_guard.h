// fifo_guard.h — a FIFO (named pipe) for the tests of readers that must
// refuse one, built so that a reader which does block on it makes the test
// fail within seconds instead of hanging the suite.
//
// A reader that opens a FIFO blocks in open() until a writer comes, then in
// read() until every writer has gone. After `patience`, the guard plays that
// writer: it opens the FIFO for writing and closes it again, over and over,
// which lets each blocked open() return and each read() see end of file.
// The reader then finishes (with some wrong answer) and `blocked()` says
// what happened.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "error_of.h"

namespace lmask::testing {

class FifoGuard {
 public:
  explicit FifoGuard(const std::string& path, std::chrono::seconds patience = std::chrono::seconds(5))
      : path_(path), patience_(patience) {
    made_ = ::mkfifo(path.c_str(), 0600) == 0;
  }
  FifoGuard(const FifoGuard&) = delete;
  FifoGuard& operator=(const FifoGuard&) = delete;

  bool made() const { return made_; }  // mkfifo succeeded
  bool blocked() const { return blocked_; }

  // The InputError message of fn() ("" if none), with fn released from the
  // FIFO if it is still running after `patience`.
  template <class Fn>
  std::string error_of(Fn fn) {
    done_ = false;
    std::thread watchdog([this] { release_readers_when_late(); });
    std::string message = lmask::testing::error_of(fn);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    wake_.notify_all();
    watchdog.join();
    return message;
  }

 private:
  void release_readers_when_late() {
    std::unique_lock<std::mutex> lock(mutex_);
    if (wake_.wait_for(lock, patience_, [this] { return done_; })) return;
    blocked_ = true;
    while (!done_) {
      lock.unlock();
      // O_NONBLOCK: succeeds only while some reader has the FIFO open (or is
      // opening it), and never waits for one.
      const int fd = ::open(path_.c_str(), O_WRONLY | O_NONBLOCK);
      if (fd >= 0) ::close(fd);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      lock.lock();
    }
  }

  std::string path_;
  std::chrono::seconds patience_;
  bool made_ = false;
  std::atomic<bool> blocked_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool done_ = false;
};

}  // namespace lmask::testing
