#pragma once
// Runs the hwnas command line in-process and captures what it prints.
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "hwnas/cli/cli.h"
#include "test_util.h"

namespace hwnas::test {
struct Run {
  int code;
  std::string out, err;
};
inline Run run_cli(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  const int code = hwnas::cli::run(args, out, err);
  return {code, out.str(), err.str()};
}

/// Starts the real hwnas binary with `args` in a child process.
inline pid_t spawn_hwnas(const std::vector<std::string>& args) {
  const std::string& exe = hwnas::test::hwnas_exe();
  std::vector<char*> argv{const_cast<char*>(exe.c_str())};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t child = fork();
  if (child == 0) {
    execv(exe.c_str(), argv.data());
    _exit(127);
  }
  return child;
}

inline size_t lines_in(const std::string& path) {
  std::ifstream in(path);
  size_t n = 0;
  std::string line;
  while (std::getline(in, line)) ++n;
  return n;
}

/// Waits until `path` has `lines` lines (true) or the child exits first (false; its
/// status in `status`), for at most two minutes.
inline bool wait_for_lines(pid_t child, const std::string& path, size_t lines, int& status) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (lines_in(path) < lines) {
    if (waitpid(child, &status, WNOHANG) == child || std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace hwnas::test
