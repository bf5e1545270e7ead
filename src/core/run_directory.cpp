#include "hwnas/core/run_directory.h"

#include <filesystem>
#include <utility>

#include "hwnas/core/error.h"

namespace hwnas {

namespace fs = std::filesystem;

OutputMode output_mode(bool resume, bool overwrite) {
  HWNAS_CHECK_T(ConfigError, !(resume && overwrite),
                "resume (--resume) and overwrite (--overwrite) exclude each other; set one");
  return resume ? OutputMode::resume : overwrite ? OutputMode::overwrite : OutputMode::fresh;
}

namespace {

// `dir` itself, after refusing a file in its place (before the lock would try to create it).
const std::string& not_a_file(const std::string& dir, const std::string& what) {
  std::error_code ec;
  HWNAS_CHECK_T(ConfigError, !fs::exists(dir, ec) || fs::is_directory(dir, ec), "The output '", dir,
                "' for the ", what, " exists and is not a directory; give a folder path (nothing was replaced)");
  return dir;
}

}  // namespace

std::function<bool(const std::string&)> RunDirectory::has_any(std::vector<std::string> entries) {
  return [entries = std::move(entries)](const std::string& dir) {
    for (const auto& e : entries)
      if (fs::exists(fs::path(dir) / e)) return true;
    return false;
  };
}

RunDirectory::RunDirectory(std::string dir, OutputMode mode, Kind kind)
    : dir_(std::move(dir)), lock_(OutputLock::directory(not_a_file(dir_, kind.what))) {
  // Read only under the lock: another process may be writing the directory.
  std::vector<fs::path> entries;
  for (const auto& e : fs::directory_iterator(dir_))
    if (e.path().filename() != OutputLock::kFileName) entries.push_back(e.path());
  if (entries.empty()) return;
  switch (mode) {
    case OutputMode::fresh:
      throw ConfigError(detail::concat("The output directory '", dir_, "' exists and is not empty; set resume "
                                       "(--resume) to continue that ", kind.what, ", overwrite (--overwrite) to "
                                       "replace it, or choose another output (nothing was replaced)"));
    case OutputMode::resume:
      resumed_ = true;
      return;
    case OutputMode::overwrite:
      HWNAS_CHECK_T(ConfigError, kind.is && kind.is(dir_), "overwrite (--overwrite): '", dir_, "' is not an hwnas ",
                    kind.what, " directory; it is left alone: choose another output");
      for (const auto& e : entries) fs::remove_all(e);
      return;
  }
}

std::string RunDirectory::file(const std::string& name) const { return (fs::path(dir_) / name).string(); }

RunFile::RunFile(std::string path, OutputMode mode, std::string what, std::vector<std::string> companions)
    : path_(std::move(path)), lock_(OutputLock::file(path_)) {
  companions.insert(companions.begin(), path_);
  for (const auto& f : companions) {
    std::error_code ec;
    if (!fs::exists(f, ec)) continue;
    HWNAS_CHECK_T(ConfigError, !fs::is_directory(f, ec), "'", f, "' (part of the ", what, " '", path_,
                  "') is a directory; move it away or choose another output (nothing was replaced)");
    HWNAS_CHECK_T(ConfigError, mode != OutputMode::fresh, "The ", what, " '", f == path_ ? f : path_, "' ",
                  f == path_ ? "exists" : "has '" + f + "' beside it", "; set resume (--resume) to continue it, "
                  "overwrite (--overwrite) to replace it, or choose another output (nothing was replaced)");
    resumed_ = resumed_ || mode == OutputMode::resume;
  }
}

}  // namespace hwnas
