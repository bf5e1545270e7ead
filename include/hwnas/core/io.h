#pragma once
// File helpers: every file hwnas writes goes through write_file_atomic (a temporary file
// in the same folder, flushed, then renamed), so a crash never leaves half a file.
#include <string>

namespace hwnas {

/// Writes `content` to `path` atomically; throws DataError naming the path on failure.
void write_file_atomic(const std::string& path, const std::string& content);

/// The whole file; throws DataError naming `what` and the path if it cannot be read.
std::string read_file(const std::string& path, const std::string& what);

}  // namespace hwnas
