#include "progress.h"

#include <unistd.h>

#include <fmt/core.h>

#include "lmask/error.h"

namespace lmask::cli {

namespace {

std::string clock_time(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
                   : fmt::format("{}:{:02}", s / 60, s % 60);
}

}  // namespace

Progress::Progress(std::string what, std::size_t total)
    : what_(one_line(what)), total_(total), terminal_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

double Progress::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::advance(std::size_t done_now) {
  done_ += done_now;
  const auto now = std::chrono::steady_clock::now();
  if (terminal_ && now - last_draw_ > std::chrono::milliseconds(200)) {
    last_draw_ = now;
    draw(false);
  }
}

void Progress::finish() { draw(true); }

void Progress::note(const std::string& line) {
  // On a terminal, clear the bar's line first ("\r", erase to end of line).
  // A file name in the line may hold a newline or an escape: shown escaped.
  fmt::print(stderr, "{}{}\n", terminal_ ? "\r\x1b[K" : "", one_line(line));
  if (terminal_) draw(false);
  std::fflush(stderr);
}

void Progress::draw(bool final_line) {
  const double elapsed = seconds();
  const double rate = elapsed > 0 ? done_ / elapsed : 0.0;
  const double eta = rate > 0 ? (total_ - done_) / rate : 0.0;
  constexpr int kWidth = 24;
  const int filled = total_ ? static_cast<int>(kWidth * done_ / total_) : kWidth;
  const std::string bar = std::string(filled, '#') + std::string(kWidth - filled, '.');
  if (final_line)
    fmt::print(stderr, "{}{} [{}] {}/{}  {:.1f} images/s  {}\n", terminal_ ? "\r" : "", what_, bar, done_,
               total_, rate, clock_time(elapsed));
  else
    fmt::print(stderr, "\r{} [{}] {}/{}  {:.1f} images/s  ETA {}   ", what_, bar, done_, total_, rate,
               clock_time(eta));
  std::fflush(stderr);
}

}  // namespace lmask::cli
