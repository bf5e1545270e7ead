#pragma once
// Ctrl-C for long commands: while a SigintGuard lives, the first Ctrl-C sets
// stop_requested() (the command stops after its current step and keeps its checkpoint);
// a second Ctrl-C kills as usual.
#include <atomic>
#include <csignal>

namespace hwnas::cli {

inline std::atomic<bool>& stop_requested() {
  static std::atomic<bool> flag{false};
  return flag;
}

extern "C" inline void hwnas_on_sigint(int) {
  stop_requested().store(true);
  std::signal(SIGINT, SIG_DFL);
}

class SigintGuard {
 public:
  SigintGuard() {
    stop_requested().store(false);
    previous_ = std::signal(SIGINT, hwnas_on_sigint);
  }
  ~SigintGuard() { std::signal(SIGINT, previous_); }
  SigintGuard(const SigintGuard&) = delete;
  SigintGuard& operator=(const SigintGuard&) = delete;

 private:
  void (*previous_)(int);
};

}  // namespace hwnas::cli
