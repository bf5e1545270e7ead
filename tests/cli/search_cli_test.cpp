#include <csignal>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "hwnas/core/io.h"
#include "test_util.h"

using namespace hwnas;
using hwnas::test::run_cli;
namespace fs = std::filesystem;

namespace {

// An analytic-cost search on NAS-Bench-201 (no training): quick and exact.
nlohmann::json experiment() {
  return {{"space", "nb201"},
          {"strategy", {{"name", "evolution"}, {"population", 8}, {"sample_size", 3}}},
          {"objectives", {{{"metric", "macs"}, {"goal", "max"}}, {{"metric", "params"}, {"goal", "min"}}}},
          {"constraints", {"params <= 0.6M"}},
          {"budget", {{"evaluations", 30}}},
          {"batch_size", 5},
          {"output", "run"}};
}

std::string write_config(const std::string& dir, const nlohmann::json& j, const std::string& name = "exp.json") {
  const auto path = dir + "/" + name;
  write_file_atomic(path, j.dump(2));
  return path;
}

}  // namespace

TEST_CASE("hwnas search runs a config, writes its results and prints a summary", "[cli][search]") {
  const auto dir = test::temp_dir("cli_search");
  const auto config = write_config(dir, experiment());
  const auto r = run_cli({"search", "-c", config, "--no-progress"});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("30 evaluations") != std::string::npos);
  CHECK(r.out.find("Pareto front") != std::string::npos);
  CHECK(r.out.find("hypervolume") != std::string::npos);
  // "output" is relative to the config file.
  for (const char* f : {"log.jsonl", "best.json", "pareto.json", "summary.txt", "checkpoint.json"})
    CHECK(fs::exists(fs::path(dir) / "run" / f));

  // The directory exists now: refused without --resume or --overwrite.
  auto again = run_cli({"search", "-c", config, "--no-progress"});
  CHECK(again.code == 2);
  CHECK(again.err.find("--resume") != std::string::npos);
  // A resume with another seed is refused and shows the difference.
  again = run_cli({"search", "-c", config, "--resume", "--seed", "5", "--no-progress"});
  CHECK(again.code == 2);
  CHECK(again.err.find("/seed was 0, now 5") != std::string::npos);
  // A larger budget continues the run.
  again = run_cli({"search", "-c", config, "--resume", "-n", "40", "--no-progress"});
  CHECK(again.code == 0);
  CHECK(again.out.find("40 evaluations") != std::string::npos);
  CHECK(run_cli({"search", "-c", config, "--overwrite", "--no-progress"}).code == 0);
}

TEST_CASE("hwnas search --seeds replays many seeds and reports mean and std", "[cli][search]") {
  const auto dir = test::temp_dir("cli_replay");
  const auto config = write_config(dir, experiment());
  const auto r = run_cli({"search", "-c", config, "--seeds", "3", "-o", dir + "/replay", "--no-progress"});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("3 of 3 runs found a feasible arch") != std::string::npos);
  CHECK(r.out.find("best macs (max): mean") != std::string::npos);
  CHECK(r.out.find("hypervolume: mean") != std::string::npos);
  const auto replay = nlohmann::json::parse(read_file(dir + "/replay/replay.json", "replay"));
  CHECK(replay["runs"].size() == 3);
  CHECK(fs::exists(dir + "/replay/seed-2/log.jsonl"));

  // The replay directory follows the output policy: refused again, continued (nothing to
  // do: the same numbers), replaced; a folder that is no replay is never replaced.
  const auto base = std::vector<std::string>{"search", "-c", config, "--seeds", "3", "-o", dir + "/replay", "--no-progress"};
  auto with = [&](const char* flag) { auto v = base; v.push_back(flag); return run_cli(v); };
  auto again = run_cli(base);
  CHECK(again.code == 2);
  CHECK(again.err.find("continue that replay") != std::string::npos);
  again = with("--resume");
  CHECK(again.code == 0);
  CHECK(nlohmann::json::parse(read_file(dir + "/replay/replay.json", "replay"))["runs"] == replay["runs"]);
  fs::remove_all(dir + "/replay/seed-1");
  again = with("--overwrite");
  CHECK(again.code == 0);
  CHECK(fs::exists(dir + "/replay/seed-1/log.jsonl"));
  CHECK(nlohmann::json::parse(read_file(dir + "/replay/replay.json", "replay"))["runs"] == replay["runs"]);
  fs::create_directories(dir + "/photos");
  write_file_atomic(dir + "/photos/cat.jpg", "meow");
  again = run_cli({"search", "-c", config, "--seeds", "2", "-o", dir + "/photos", "--overwrite", "--no-progress"});
  CHECK(again.code == 2);
  CHECK(again.err.find("not an hwnas replay directory") != std::string::npos);
  CHECK(read_file(dir + "/photos/cat.jpg", "photo") == "meow");
}

TEST_CASE("hwnas search reports bad configs and impossible constraints", "[cli][search][errors]") {
  const auto dir = test::temp_dir("cli_search_bad");
  write_file_atomic(dir + "/broken.json", "{\"space\": \"nb201\",");
  auto r = run_cli({"search", "-c", dir + "/broken.json"});
  CHECK(r.code == 2);
  CHECK(r.err.find("not valid JSON") != std::string::npos);

  auto j = experiment();
  j["strategy"] = "annealing";
  r = run_cli({"search", "-c", write_config(dir, j, "a.json")});
  CHECK(r.code == 2);
  CHECK(r.err.find("nsga2") != std::string::npos);

  j = experiment();
  j["objectives"][0]["metric"] = "accuracy";
  r = run_cli({"search", "-c", write_config(dir, j, "b.json")});
  CHECK(r.code == 2);
  CHECK(r.err.find("Unknown objective metric 'accuracy'") != std::string::npos);

  r = run_cli({"search", "-c", write_config(dir, experiment(), "c.json"), "-n", "0"});
  CHECK(r.code == 2);
  CHECK(r.err.find("budget is zero") != std::string::npos);

  // No arch can meet the constraint: said after the budget, with the closest arch, and
  // the results stay on disk.
  j = experiment();
  j["constraints"] = {"params <= 100"};
  j["output"] = "impossible";
  r = run_cli({"search", "-c", write_config(dir, j, "d.json"), "--no-progress"});
  CHECK(r.code == 2);
  CHECK(r.out.find("NO arch met the constraints") != std::string::npos);
  CHECK(r.err.find("No arch met the constraints (params <= 100) in 30 evaluations") != std::string::npos);
  CHECK(fs::exists(dir + "/impossible/best.json"));
}

TEST_CASE("Ctrl-C stops hwnas search after the current batch, and --resume finishes it", "[cli][search]") {
  const auto dir = test::temp_dir("cli_sigint");
  // A proxy evaluator makes each arch take a moment.
  nlohmann::json j = {
      {"space", {{"name", "nb201"}, {"config", {{"channels", 4}, {"cells_per_stage", 1}}}}},
      {"strategy", {{"name", "random"}}},
      {"evaluator", {{"name", "proxies"}, {"options", {{"proxies", {"synflow"}}, {"batch_size", 16}}},
                     {"data", {{"name", "synthetic"}, {"train_size", 32}, {"valid_size", 8}}}}},
      {"objectives", {{{"metric", "synflow"}, {"goal", "max"}}}},
      {"budget", {{"evaluations", 60}}},
      {"batch_size", 2},
      {"output", "run"}};
  const auto config = write_config(dir, j);
  const pid_t child = test::spawn_hwnas({"--threads", "1", "search", "-c", config, "--no-progress"});
  REQUIRE(child > 0);
  int status = 0;
  REQUIRE(test::wait_for_lines(child, dir + "/run/log.jsonl", 6, status));
  kill(child, SIGINT);
  waitpid(child, &status, 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  // Stopped at a batch boundary, checkpointed: the log holds whole batches only.
  const auto logged = test::lines_in(dir + "/run/log.jsonl");
  INFO("stopped after " << logged << " evaluations");
  CHECK(logged % 2 == 0);
  CHECK(logged < 60);
  const auto checkpoint = nlohmann::json::parse(read_file(dir + "/run/checkpoint.json", "checkpoint"));
  CHECK(checkpoint["evaluations"].get<size_t>() == logged);
  const auto r = run_cli({"search", "-c", config, "--resume", "--no-progress"});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(test::lines_in(dir + "/run/log.jsonl") == 60);
}

TEST_CASE("hwnas train-supernet, then hwnas search over its inherited weights, and a differentiable search", "[cli][oneshot]") {
  const auto dir = test::temp_dir("cli_oneshot");
  const std::string space_config = R"({"channels": 4, "cells_per_stage": 1})";
  const auto weights = dir + "/supernet.pt";
  auto r = run_cli({"train-supernet", "-s", "nb201", "--space-config", space_config, "--data", "synthetic",
                    "--train-size", "128", "--options", R"({"rule": "sandwich", "epochs": 2, "batch_size": 32})",
                    "-o", weights, "--no-progress"});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("epoch 2:") != std::string::npos);
  CHECK(fs::exists(weights));
  // Existing weights are not overwritten without --resume.
  CHECK(run_cli({"train-supernet", "-s", "nb201", "--space-config", space_config, "--data", "synthetic", "-o", weights})
            .code == 2);

  const nlohmann::json data = {{"name", "synthetic"}, {"train_size", 128}, {"valid_size", 64}};
  const nlohmann::json space = {{"name", "nb201"}, {"config", nlohmann::json::parse(space_config)}};
  auto inherited = write_config(
      dir,
      {{"space", space},
       {"strategy", {{"name", "evolution"}, {"population", 4}, {"sample_size", 2}}},
       {"evaluator", {{"name", "inherited"}, {"supernet", "supernet.pt"}, {"options", {{"bn_batches", 1}}}, {"data", data}}},
       {"objectives", {{{"metric", "val_accuracy"}, {"goal", "max"}}, {{"metric", "macs"}, {"goal", "min"}}}},
       {"budget", {{"evaluations", 8}}},
       {"batch_size", 4},
       {"output", "inherited"}},
      "inherited.json");
  r = run_cli({"search", "-c", inherited, "--no-progress"});
  INFO(r.out << r.err);
  CHECK(r.code == 0);
  CHECK(r.out.find("8 evaluations") != std::string::npos);

  for (const std::string method : {"darts", "pcdarts", "gdas", "fbnet", "proxyless"}) {
    auto config = write_config(dir,
                               {{"space", space},
                                {"strategy", {{"name", method}, {"epochs", 2}, {"steps_per_epoch", 2}, {"batch_size", 16}}},
                                {"evaluator", {{"name", "none"}, {"data", data}}},
                                {"objectives", {{{"metric", "params"}, {"goal", "min"}}}},
                                {"output", method}},
                               method + ".json");
    r = run_cli({"search", "-c", config, "--no-progress"});
    INFO(method << ": " << r.out << r.err);
    CHECK(r.code == 0);
    CHECK(test::lines_in(dir + "/" + method + "/epochs.jsonl") == 2);
    CHECK(fs::exists(fs::path(dir) / method / "best.json"));
  }
  // An unsupported pairing is refused before anything runs, listing what works.
  auto ofa = write_config(dir,
                          {{"space", "ofa"},
                           {"strategy", "gdas"},
                           {"evaluator", {{"name", "none"}, {"data", data}}},
                           {"objectives", {{{"metric", "params"}, {"goal", "min"}}}},
                           {"output", "ofa"}},
                          "ofa.json");
  r = run_cli({"search", "-c", ofa, "--no-progress"});
  CHECK(r.code == 2);
  CHECK(r.err.find("nb201, darts, mobilenet") != std::string::npos);
  CHECK_FALSE(fs::exists(fs::path(dir) / "ofa"));
}
