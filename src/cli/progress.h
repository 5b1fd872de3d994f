// progress.h — a one-line progress bar on stderr: done/total, images/s, ETA.
// Redrawn at most a few times a second; silent when stderr is not a terminal
// except for a final summary line, so logs stay short.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace lmask::cli {

class Progress {
 public:
  Progress(std::string what, std::size_t total);
  void advance(std::size_t done_now);  // adds done_now finished items
  void finish();                       // final line with the total rate
  // A line of its own ("lmask: warning: ..."), printed above the bar.
  void note(const std::string& line);
  double seconds() const;

 private:
  void draw(bool final_line);

  std::string what_;
  std::size_t total_, done_ = 0;
  bool terminal_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace lmask::cli
