#pragma once
// Progress reporting on stderr: a redrawn bar with rate and ETA when stderr is
// a terminal, nothing otherwise, nothing with --quiet.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace papersim {

class Progress {
 public:
  /// `label` names the work ("pairs"); `enabled` false silences it entirely.
  Progress(std::string label, std::int64_t total, bool enabled);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  /// Thread-safe; redraws at most ~10 times a second.
  void update(std::int64_t done);
  /// Erase the bar line.
  void finish();
  /// Whether stderr is an interactive terminal.
  static bool stderr_is_tty();

 private:
  std::string label_;
  std::int64_t total_;
  bool enabled_;
  bool drawn_ = false;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace papersim
