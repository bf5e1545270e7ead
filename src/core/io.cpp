#include "hwnas/core/io.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hwnas/core/error.h"

namespace hwnas {

void write_file_atomic(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  HWNAS_CHECK_T(DataError, f != nullptr, "Cannot write '", path, "': ", std::strerror(errno),
                "; choose an output in an existing, writable folder");
  const bool ok = std::fwrite(content.data(), 1, content.size(), f) == content.size() && std::fflush(f) == 0 &&
                  ::fsync(::fileno(f)) == 0;
  const int err = errno;
  std::fclose(f);
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = ok ? errno : err;
    std::remove(tmp.c_str());
    throw DataError(detail::concat("Cannot write '", path, "': ", std::strerror(e),
                                   "; check the free space and that the folder is writable"));
  }
}

std::string read_file(const std::string& path, const std::string& what) {
  std::error_code ec;
  HWNAS_CHECK_T(DataError, !std::filesystem::is_directory(path, ec), "The ", what, " '", path,
                "' is a directory; give the path of a file");
  std::ifstream in(path, std::ios::binary);
  HWNAS_CHECK_T(DataError, in.good(), "Cannot read the ", what, " '", path,
                "': no such file or not readable; check the path");
  std::stringstream ss;
  ss << in.rdbuf();
  HWNAS_CHECK_T(DataError, !in.bad(), "Cannot read the ", what, " '", path, "': ", std::strerror(errno));
  return ss.str();
}

namespace fs = std::filesystem;

void check_output_free(const std::string& path, bool overwrite, const std::string& what, bool want_directory) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (!fs::exists(status)) return;
  const bool is_dir = fs::is_directory(status);
  HWNAS_CHECK_T(ConfigError, is_dir == want_directory, "The ", what, " '", path, "' exists and is ",
                is_dir ? "a directory" : "not a directory", "; give ", want_directory ? "a folder" : "a file",
                " path (nothing was replaced)");
  HWNAS_CHECK_T(ConfigError, overwrite, "The ", what, " '", path,
                "' already exists; nothing was replaced: choose another output or set overwrite (--overwrite)");
}

namespace {
// Whether `pid` (decimal, as in a temporary's name) is a process that no longer runs.
bool dead_process(const std::string& digits) {
  if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) return false;
  const pid_t pid = static_cast<pid_t>(std::stol(digits));
  return pid != ::getpid() && ::kill(pid, 0) != 0 && errno == ESRCH;
}
}  // namespace

// --- StagedDirectory ------------------------------------------------------------------

StagedDirectory::StagedDirectory(std::string final_dir, bool overwrite)
    : final_(std::move(final_dir)), overwrite_(overwrite) {
  check_output_free(final_, overwrite_, "output folder", /*want_directory=*/true);
  fs::path f(final_);
  if (f.filename().empty()) f = f.parent_path();  // "dir/"
  const auto parent = f.parent_path().empty() ? fs::path(".") : f.parent_path();
  const std::string prefix = "." + f.filename().string() + ".partial.";
  staging_ = (parent / (prefix + std::to_string(::getpid()))).string();
  std::error_code ec;
  // Folders a killed process staged for this output (and its ".old" swap) are removed.
  for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
    auto name = it->path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    name = name.substr(prefix.size());
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".old") == 0) name.resize(name.size() - 4);
    if (dead_process(name)) fs::remove_all(it->path(), ec);
  }
  ec.clear();
  fs::remove_all(staging_, ec);
  fs::create_directories(staging_, ec);
  HWNAS_CHECK_T(DataError, !ec, "Cannot create the folder '", staging_, "' for '", final_, "': ", ec.message(),
                "; choose an output in a writable folder");
}

StagedDirectory::~StagedDirectory() {
  if (committed_) return;
  std::error_code ec;
  fs::remove_all(staging_, ec);
}

void StagedDirectory::commit() {
  HWNAS_INTERNAL_ASSERT(!committed_, "StagedDirectory committed twice");
  std::error_code ec;
  std::string old;
  if (fs::exists(final_, ec)) {
    check_output_free(final_, overwrite_, "output folder", /*want_directory=*/true);
    old = staging_ + ".old";
    fs::rename(final_, old, ec);
    HWNAS_CHECK_T(DataError, !ec, "Cannot replace '", final_, "': ", ec.message());
  }
  fs::rename(staging_, final_, ec);
  if (ec) {
    const auto message = ec.message();
    if (!old.empty()) fs::rename(old, final_, ec);
    throw DataError(detail::concat("Cannot move the finished output into '", final_, "': ", message));
  }
  committed_ = true;
  if (!old.empty()) fs::remove_all(old, ec);
}

// --- OutputLock ---------------------------------------------------------------------

namespace {
// "process N" from the lock file the holder wrote.
std::string holder_of(const std::string& path) {
  std::ifstream in(path);
  std::string word, pid;
  in >> word >> pid;
  return word == "pid" && !pid.empty() ? "process " + pid : "another process";
}

// Whether `name` is "<file>.tmp.<pid>" (write_file_atomic's temporary) of a process that no
// longer runs: a write cut off by a kill, which the new holder of the output removes.
bool stale_temporary(const std::string& name) {
  const auto at = name.rfind(".tmp.");
  return at != std::string::npos && at > 0 && dead_process(name.substr(at + 5));
}

// In a locked run directory (no prefix): every file below it; beside a locked file (its
// name as prefix): that folder only.
void remove_stale_temporaries(const fs::path& dir, const std::string& only_prefix) {
  std::error_code ec;
  auto visit = [&](const fs::directory_entry& e) {
    const auto name = e.path().filename().string();
    std::error_code type_ec;
    if (e.is_regular_file(type_ec) && name.rfind(only_prefix, 0) == 0 && stale_temporary(name)) fs::remove(e.path(), ec);
  };
  if (only_prefix.empty()) {
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) visit(*it);
  } else {
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) visit(*it);
  }
}
}  // namespace

OutputLock OutputLock::directory(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  HWNAS_CHECK_T(DataError, fs::is_directory(dir, ec), "Cannot create the run directory '", dir, "'",
                ec ? ": " + ec.message() : std::string(": a file of that name exists"),
                "; choose an output folder that can be created");
  return OutputLock(dir, (fs::path(dir) / kFileName).string(), dir, "");
}

OutputLock OutputLock::file(const std::string& path) {
  std::error_code ec;
  HWNAS_CHECK_T(ConfigError, !fs::is_directory(path, ec), "The output '", path, "' is a directory; give a file path");
  const fs::path p(path);
  // The file's own temporaries and its sidecars' ("<file>.recipe.json.tmp.<pid>").
  return OutputLock(path, path + ".lock", p.has_parent_path() ? p.parent_path().string() : ".",
                    p.filename().string() + ".");
}

OutputLock::OutputLock(const std::string& output, std::string lock_path, const std::string& clean_dir,
                       const std::string& clean_prefix)
    : path_(std::move(lock_path)) {
  // flock() locks an open file description, so two holders conflict also within one
  // process. Open, lock, and check that the file locked is still the one at the path (a holder that
  // released in between removed it): otherwise try again.
  for (int attempt = 0; attempt < 100; ++attempt) {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) break;
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd_);
      fd_ = -1;
      throw ConfigError(detail::concat("The output '", output, "' is in use by ", holder_of(path_),
                                       " (lock file '", path_, "'); wait for it to finish, or stop it, then try again"));
    }
    struct stat by_fd {}, by_path {};
    if (::fstat(fd_, &by_fd) == 0 && ::stat(path_.c_str(), &by_path) == 0 && by_fd.st_ino == by_path.st_ino &&
        by_fd.st_dev == by_path.st_dev) {
      const std::string text = "pid " + std::to_string(::getpid()) + "\n";
      if (::ftruncate(fd_, 0) == 0) {
        [[maybe_unused]] const auto written = ::pwrite(fd_, text.data(), text.size(), 0);
      }
      remove_stale_temporaries(clean_dir, clean_prefix);
      return;
    }
    ::close(fd_);
    fd_ = -1;
  }
  const int err = errno;
  throw DataError(detail::concat("Cannot lock the output '", output, "' (", path_, "): ", std::strerror(err),
                                 "; choose an output in an existing, writable folder"));
}

OutputLock::~OutputLock() {
  ::unlink(path_.c_str());
  ::close(fd_);
}

}  // namespace hwnas
