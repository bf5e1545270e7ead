#pragma once
// A progress bar with ETA on an interactive terminal; in non-interactive use, one line
// every 10% so logs stay short.
#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

#include <fmt/format.h>
#include <unistd.h>

namespace hwnas::cli {

class Progress {
 public:
  Progress(std::ostream& out, std::string label, bool quiet = false)
      : out_(out), label_(std::move(label)), tty_(::isatty(2) != 0), quiet_(quiet), start_(Clock::now()) {}

  /// `extra` is shown after the counts (e.g. the best value so far).
  void update(int64_t done, int64_t total, const std::string& extra = "") {
    if (quiet_ || total <= 0) return;
    const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
    const double eta = done > 0 ? elapsed / static_cast<double>(done) * static_cast<double>(total - done) : 0;
    const int percent = static_cast<int>(100 * done / total);
    if (tty_) {
      const int width = 30, filled = width * percent / 100;
      out_ << fmt::format("\r{} [{}{}] {}/{} {:3d}%{}  elapsed {:.0f}s  ETA {:.0f}s ", label_, std::string(filled, '#'),
                          std::string(width - filled, '.'), done, total, percent, extra, elapsed, eta)
           << (done == total ? "\n" : "") << std::flush;
    } else if (percent / 10 > last_decile_ || done == total) {
      last_decile_ = percent / 10;
      out_ << fmt::format("{}: {}/{} ({}%){}, elapsed {:.0f}s, ETA {:.0f}s\n", label_, done, total, percent, extra, elapsed, eta);
    }
  }

 private:
  using Clock = std::chrono::steady_clock;
  std::ostream& out_;
  std::string label_;
  bool tty_, quiet_;
  Clock::time_point start_;
  int last_decile_ = -1;
};

}  // namespace hwnas::cli
