#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "hwnas/core/io.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace {
std::string slurp(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

TEST_CASE("check_output_free refuses existing outputs unless overwrite", "[core][io]") {
  const auto dir = hwnas::test::temp_dir("io_output");
  CHECK_NOTHROW(hwnas::check_output_free(dir + "/new.json", false, "table"));
  hwnas::write_file_atomic(dir + "/old.json", "x");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, hwnas::check_output_free(dir + "/old.json", false, "latency table"),
                          "old.json", "already exists", "--overwrite");
  CHECK_NOTHROW(hwnas::check_output_free(dir + "/old.json", true, "table"));
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, hwnas::check_output_free(dir, true, "table"), "is a directory");
  CHECK(slurp(dir + "/old.json") == "x");
}

TEST_CASE("StagedDirectory appears whole or not at all", "[core][io]") {
  const auto dir = hwnas::test::temp_dir("io_staged");
  const auto out = dir + "/export";
  {
    hwnas::StagedDirectory staged(out, false);
    hwnas::write_file_atomic(staged.path() + "/a", "1");
    CHECK_FALSE(fs::exists(out));
    staged.commit();
  }
  CHECK(slurp(out + "/a") == "1");
  {  // an error before commit: the old folder stays, the staging folder goes
    hwnas::StagedDirectory staged(out, true);
    hwnas::write_file_atomic(staged.path() + "/a", "2");
  }
  CHECK(slurp(out + "/a") == "1");
  REQUIRE(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, hwnas::StagedDirectory(out, false), "export", "already exists");
  {
    hwnas::StagedDirectory staged(out, true);
    hwnas::write_file_atomic(staged.path() + "/b", "3");
    staged.commit();
  }
  CHECK_FALSE(fs::exists(out + "/a"));
  CHECK(slurp(out + "/b") == "3");
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);
}

TEST_CASE("OutputLock admits one holder, in this process or another", "[core][io]") {
  const auto dir = hwnas::test::temp_dir("io_lock") + "/run";
  {
    const auto lock = hwnas::OutputLock::directory(dir);
    CHECK(fs::exists(dir + "/" + hwnas::OutputLock::kFileName));
    REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, hwnas::OutputLock::directory(dir), "run", "is in use by process");
    // Another process (util-linux flock) cannot take it either.
    const auto cmd = "flock -n '" + dir + "/" + hwnas::OutputLock::kFileName + "' true";
    CHECK(std::system(cmd.c_str()) != 0);
  }
  CHECK_FALSE(fs::exists(dir + "/" + hwnas::OutputLock::kFileName));
  CHECK_NOTHROW(hwnas::OutputLock::directory(dir));
  const auto file = fs::path(dir).parent_path().string() + "/acc.csv";
  {
    const auto lock = hwnas::OutputLock::file(file);
    REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, hwnas::OutputLock::file(file), "acc.csv", "in use");
  }
  CHECK_FALSE(fs::exists(file + ".lock"));
}

TEST_CASE("Taking an output's lock removes the temporaries a killed writer left", "[core][io]") {
  const auto dir = hwnas::test::temp_dir("io_stale_tmp");
  const pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  REQUIRE(dead > 0);
  ::waitpid(dead, nullptr, 0);
  const std::string gone = dir + "/checkpoint.json.tmp." + std::to_string(dead);
  const std::string mine = dir + "/log.jsonl.tmp." + std::to_string(::getpid());  // a live writer's
  const std::string other = dir + "/notes.tmp.txt", nested = dir + "/sub/w.pt.tmp." + std::to_string(dead);
  for (const auto& p : {gone, mine, other, nested}) {
    std::filesystem::create_directories(std::filesystem::path(p).parent_path());
    std::ofstream(p) << "x";
  }
  {
    const auto lock = hwnas::OutputLock::directory(dir);
    CHECK_FALSE(std::filesystem::exists(gone));
    CHECK_FALSE(std::filesystem::exists(nested));
    CHECK(std::filesystem::exists(mine));
    CHECK(std::filesystem::exists(other));
  }
  // A staged output removes what a killed process staged for it, not other outputs' folders.
  const std::string staged_gone = dir + "/.model.partial." + std::to_string(dead),
                    staged_old = staged_gone + ".old", staged_other = dir + "/.other.partial." + std::to_string(dead);
  for (const auto& p : {staged_gone, staged_old, staged_other}) std::filesystem::create_directories(p);
  {
    hwnas::StagedDirectory staged(dir + "/model", false);
    CHECK_FALSE(std::filesystem::exists(staged_gone));
    CHECK_FALSE(std::filesystem::exists(staged_old));
    CHECK(std::filesystem::exists(staged_other));
  }
  // A file lock cleans only that file's temporaries.
  const std::string table = dir + "/t.csv", beside = dir + "/u.csv.tmp." + std::to_string(dead);
  const std::string own = table + ".tmp." + std::to_string(dead), sidecar = table + ".recipe.json.tmp." + std::to_string(dead);
  for (const auto& p : {own, sidecar, beside}) std::ofstream(p) << "x";
  {
    const auto lock = hwnas::OutputLock::file(table);
    CHECK_FALSE(std::filesystem::exists(own));
    CHECK_FALSE(std::filesystem::exists(sidecar));
    CHECK(std::filesystem::exists(beside));
  }
}
