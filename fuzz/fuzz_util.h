#pragma once
// Shared by the libFuzzer harnesses (fuzz/*.cpp): an input is bad input, and bad input
// may only ever end as an hwnas::Error. Anything else (a crash, another exception, an
// InternalError, a leak or undefined behaviour seen by the sanitizers) is a finding.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <unistd.h>

#include "hwnas/core/error.h"

namespace hwnas::fuzz {

/// Runs `f`; an hwnas::Error (a refused input) is fine, anything else aborts.
template <typename F>
void expect_only_errors(F&& f) {
  try {
    f();
  } catch (const hwnas::InternalError& e) {
    std::fprintf(stderr, "InternalError on fuzz input: %s\n", e.what());
    std::abort();
  } catch (const hwnas::Error&) {
  }
}

/// Writes `size` bytes to `path`.
inline void write_file(const std::string& path, const uint8_t* data, size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
}

/// A scratch folder of this process (in /dev/shm when it exists).
inline const std::string& scratch_dir() {
  static const std::string dir = [] {
    const std::string d = std::string(access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") + "/hwnas-fuzz-" +
                          std::to_string(getpid());
    std::error_code ec;
    std::filesystem::create_directories(d, ec);
    if (ec) std::abort();
    return d;
  }();
  return dir;
}

/// A file in the scratch folder holding the bytes, rewritten on each call.
inline std::string as_file(const uint8_t* data, size_t size, const std::string& name) {
  const std::string path = scratch_dir() + "/input" + name;
  write_file(path, data, size);
  return path;
}

}  // namespace hwnas::fuzz
