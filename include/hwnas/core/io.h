#pragma once
// File helpers and the output policy every command follows:
//   - every file hwnas writes goes through write_file_atomic (a temporary file in the same
//     folder, flushed, then renamed), so a crash never leaves half a file;
//   - an existing output is never replaced unless the caller asked to (check_output_free);
//   - a multi-file output is written into a staging folder and renamed into place when
//     complete (StagedDirectory), so it appears whole or not at all;
//   - a run directory is used by one process at a time (DirectoryLock).
#include <string>

namespace hwnas {

/// Writes `content` to `path` atomically; throws DataError naming the path on failure.
void write_file_atomic(const std::string& path, const std::string& content);

/// The whole file; throws DataError naming `what` and the path if it cannot be read (a
/// directory, a missing or unreadable file).
std::string read_file(const std::string& path, const std::string& what);

/// Throws ConfigError when `path` exists and `overwrite` is false (nothing is replaced),
/// or when it exists as a directory where a file is wanted (`want_directory` false) or
/// the reverse. `what` names the output in the message ("latency table").
void check_output_free(const std::string& path, bool overwrite, const std::string& what, bool want_directory = false);

/// A folder that appears whole or not at all. Files are written under path(), a hidden
/// sibling of `final_dir`; commit() renames it to `final_dir` (replacing an existing one
/// only when `overwrite`). Destroyed without commit (an error, a crash), the staging
/// folder is removed and `final_dir` is untouched.
class StagedDirectory {
 public:
  StagedDirectory(std::string final_dir, bool overwrite);
  ~StagedDirectory();
  StagedDirectory(const StagedDirectory&) = delete;
  StagedDirectory& operator=(const StagedDirectory&) = delete;

  /// Where to write the files.
  const std::string& path() const { return staging_; }
  /// Moves the finished folder into place.
  void commit();

 private:
  std::string final_, staging_;
  bool overwrite_, committed_ = false;
};

/// Exclusive use of an output (a run directory, or a file that a run appends to) by one
/// holder, for the object's lifetime, through an advisory lock on a lock file: released
/// by the kernel if the process dies, so kill -9 leaves no stale lock; the lock file is
/// removed on a normal release. A second holder, in this or another process, is refused
/// with a ConfigError naming the holder's process id. Taking the lock removes the
/// temporaries of writes a killed holder left unfinished (write_file_atomic's
/// "<file>.tmp.<pid>" of a process that no longer runs), so a resumed run leaves no trace
/// of the kill.
///
///   const auto lock = hwnas::OutputLock::directory(run_dir);
class OutputLock {
 public:
  /// Locks the directory `dir` (created if missing) through dir/.hwnas.lock.
  static OutputLock directory(const std::string& dir);
  /// Locks the output file `path` through `path`.lock beside it.
  static OutputLock file(const std::string& path);
  ~OutputLock();
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

  /// The lock file's name inside a locked directory.
  static constexpr const char* kFileName = ".hwnas.lock";

 private:
  // Locks lock_path, then removes stale temporaries in clean_dir whose names start with clean_prefix.
  OutputLock(const std::string& output, std::string lock_path, const std::string& clean_dir,
             const std::string& clean_prefix);
  std::string path_;
  int fd_ = -1;
};

}  // namespace hwnas
