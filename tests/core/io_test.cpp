#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

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
