#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "hwnas/core/run_directory.h"
#include "test_util.h"

namespace fs = std::filesystem;
using hwnas::OutputMode;
using hwnas::RunDirectory;
using hwnas::RunFile;

namespace {
std::string slurp(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
const RunDirectory::Kind kSearch{"search", RunDirectory::has_any({"config.json"})};
}  // namespace

TEST_CASE("output_mode: resume and overwrite exclude each other", "[core][run_directory]") {
  CHECK(hwnas::output_mode(false, false) == OutputMode::fresh);
  CHECK(hwnas::output_mode(true, false) == OutputMode::resume);
  CHECK(hwnas::output_mode(false, true) == OutputMode::overwrite);
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, hwnas::output_mode(true, true), "exclude each other", "resume",
                          "overwrite");
}

TEST_CASE("RunDirectory applies the output policy", "[core][run_directory]") {
  const auto root = hwnas::test::temp_dir("run_directory");
  const auto dir = root + "/run";
  SECTION("a missing or empty directory starts fresh in every mode") {
    for (const auto mode : {OutputMode::fresh, OutputMode::resume, OutputMode::overwrite}) {
      const RunDirectory run(dir, mode, kSearch);
      CHECK(fs::is_directory(dir));
      CHECK_FALSE(run.resumed());
      CHECK(run.file("log.jsonl") == (fs::path(dir) / "log.jsonl").string());
    }
  }
  SECTION("content is refused fresh, continued on resume, replaced on overwrite") {
    fs::create_directories(dir);
    hwnas::write_file_atomic(dir + "/config.json", "{}");
    REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, RunDirectory(dir, OutputMode::fresh, kSearch), "run'", "that search",
                            "not empty", "--resume", "--overwrite", "nothing was replaced");
    CHECK(slurp(dir + "/config.json") == "{}");
    {
      const RunDirectory run(dir, OutputMode::resume, kSearch);
      CHECK(run.resumed());
      CHECK(slurp(dir + "/config.json") == "{}");
    }
    {
      const RunDirectory run(dir, OutputMode::overwrite, kSearch);
      CHECK_FALSE(run.resumed());
      CHECK_FALSE(fs::exists(dir + "/config.json"));
    }
  }
  SECTION("overwrite leaves alone what is not a run of its kind") {
    fs::create_directories(dir);
    hwnas::write_file_atomic(dir + "/thesis.tex", "precious");
    REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, RunDirectory(dir, OutputMode::overwrite, kSearch),
                            "not an hwnas search directory", "left alone");
    CHECK(slurp(dir + "/thesis.tex") == "precious");
  }
  SECTION("a file in the directory's place is refused") {
    hwnas::write_file_atomic(dir, "x");
    for (const auto mode : {OutputMode::fresh, OutputMode::resume, OutputMode::overwrite})
      REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, RunDirectory(dir, mode, kSearch), "is not a directory");
    CHECK(slurp(dir) == "x");
  }
  SECTION("one holder at a time") {
    const RunDirectory run(dir, OutputMode::fresh, kSearch);
    REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, RunDirectory(dir, OutputMode::resume, kSearch), "in use by");
  }
}

TEST_CASE("RunFile applies the output policy to a file and its companions", "[core][run_directory]") {
  const auto root = hwnas::test::temp_dir("run_file");
  const auto path = root + "/evals.csv", recipe = path + ".recipe.json";
  {
    const RunFile f(path, OutputMode::fresh, "evaluation CSV", {recipe});
    CHECK_FALSE(f.resumed());
    REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, RunFile(path, OutputMode::resume, "evaluation CSV"), "in use by");
  }
  SECTION("a companion alone marks the output as existing") {
    hwnas::write_file_atomic(recipe, "{}");
    REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, RunFile(path, OutputMode::fresh, "evaluation CSV", {recipe}),
                            "evals.csv' has '", "recipe.json' beside it", "--resume");
    CHECK(RunFile(path, OutputMode::resume, "evaluation CSV", {recipe}).resumed());
    CHECK_FALSE(RunFile(path, OutputMode::overwrite, "evaluation CSV", {recipe}).resumed());
    CHECK(slurp(recipe) == "{}");  // overwrite replaces when the run writes, not up front
  }
  SECTION("the file itself") {
    hwnas::write_file_atomic(path, "a,b\n");
    REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, RunFile(path, OutputMode::fresh, "evaluation CSV"),
                            "evaluation CSV", "exists", "--overwrite");
    CHECK(RunFile(path, OutputMode::resume, "evaluation CSV").resumed());
    CHECK(slurp(path) == "a,b\n");
  }
  SECTION("directories where files belong") {
    fs::create_directories(recipe);
    REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, RunFile(path, OutputMode::resume, "evaluation CSV", {recipe}),
                            "is a directory");
    REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, RunFile(root, OutputMode::resume, "evaluation CSV"),
                            "is a directory");
  }
}
