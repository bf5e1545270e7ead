#pragma once
// The policy for outputs that a run resumes, written once and used by every command
// (search, replays, evaluate, proxies, profile, train, train-supernet):
//   fresh      an output that exists is refused and kept;
//   resume     what exists is continued (nothing there: a fresh start);
//   overwrite  what exists is replaced, but only when it is an output of this kind;
//              anything else in its place is refused and kept.
// The output is held by one process at a time (OutputLock) for the object's lifetime.
// Outputs written once (an export, a profiling kit) use StagedDirectory instead.
//
//   hwnas::RunDirectory run(dir, hwnas::output_mode(resume, overwrite),
//                           {"search", hwnas::RunDirectory::has_any({"config.json"})});
//   if (run.resumed()) ...  // load run.file("checkpoint.json")
#include <functional>
#include <string>
#include <vector>

#include "hwnas/core/io.h"

namespace hwnas {

enum class OutputMode { fresh, resume, overwrite };

/// The mode the two switches ask for; ConfigError when both are set.
OutputMode output_mode(bool resume, bool overwrite);

/// A run's output directory (created if missing).
class RunDirectory {
 public:
  struct Kind {
    std::string what;                                  // in messages: "search", "training"
    std::function<bool(const std::string& dir)> is;   // whether an existing dir is one
  };
  /// A Kind test: the directory holds one of these entries.
  static std::function<bool(const std::string&)> has_any(std::vector<std::string> entries);

  /// Takes the lock and applies `mode`: ConfigError for a path that is a file, a fresh
  /// mode on a directory with content, an overwrite of a directory that is not `kind`;
  /// an overwrite removes the old content.
  RunDirectory(std::string dir, OutputMode mode, Kind kind);

  const std::string& path() const { return dir_; }
  /// dir/name.
  std::string file(const std::string& name) const;
  /// Whether there is something to continue: resume mode and a directory with content.
  bool resumed() const { return resumed_; }

 private:
  std::string dir_;
  OutputLock lock_;
  bool resumed_ = false;
};

/// A file output that a run rewrites as it goes and may resume (an evaluation CSV, a
/// latency table, supernet weights with their checkpoint), with `companions` (a recipe
/// beside it, a checkpoint) that belong to it: fresh refuses any of them existing, a
/// directory in the file's place is refused in every mode. Overwrite removes nothing
/// up front: the run replaces the file when it writes it.
class RunFile {
 public:
  RunFile(std::string path, OutputMode mode, std::string what, std::vector<std::string> companions = {});

  const std::string& path() const { return path_; }
  /// Whether there is something to continue: resume mode and the file or a companion exists.
  bool resumed() const { return resumed_; }

 private:
  std::string path_;
  OutputLock lock_;
  bool resumed_ = false;
};

}  // namespace hwnas
