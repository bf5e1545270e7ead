// Determinism across processes: the real hwnas binary runs the same command twice, each
// in a fresh process, and what it wrote must be the same bytes; with another seed it must
// differ (so the comparison can fail). In-process tests cannot see a missing seed: a
// second call in one process inherits the first one's random state.
//
// Excepted from byte equality (measured times, not results):
//   - JSON/JSONL keys: seconds, elapsed_s, train_seconds, time_s (values dropped, the rest
//     of the document compared);
//   - CSV columns: train_seconds;
//   - summary.txt lines that state elapsed wall time ("... s" figures).
// Checkpoint archives (checkpoint.pt, *.ckpt, search.pt) are compared byte for byte: their
// measured times live beside them in *.times.json files (only "seconds" keys).
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <chrono>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <signal.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli_util.h"
#include "hwnas/core/io.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace {

const std::set<std::string> kTimingKeys{"seconds", "elapsed_s", "train_seconds", "time_s"};
const std::string kArch = "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|skip_connect~0|avg_pool_3x3~1|nor_conv_3x3~2|";
const std::string kTinyNb201 = R"({"channels": 4, "cells_per_stage": 1})";

// Runs the real binary to completion; its output goes to DIR.log.
int run_binary(const std::vector<std::string>& args, const std::string& log) {
  std::string cmd = "'" + hwnas::test::hwnas_exe() + "'";
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += " > '" + log + "' 2>&1";
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void drop_timing(nlohmann::json& j) {
  if (j.is_object()) {
    for (const auto& k : kTimingKeys) j.erase(k);
    for (auto& [k, v] : j.items()) drop_timing(v);
  } else if (j.is_array()) {
    for (auto& v : j) drop_timing(v);
  }
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// What of a file must be identical between runs.
std::string comparable(const fs::path& p) {
  const auto text = slurp(p);
  const auto ext = p.extension().string();
  if (ext == ".json") {
    auto j = nlohmann::json::parse(text);
    drop_timing(j);
    return j.dump();
  }
  if (ext == ".jsonl") {
    std::string out, line;
    std::istringstream in(text);
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line);
      drop_timing(j);
      out += j.dump() + "\n";
    }
    return out;
  }
  if (ext == ".csv") {
    std::istringstream in(text);
    std::string line, out;
    std::vector<bool> keep;
    for (bool header = true; std::getline(in, line); header = false) {
      std::vector<std::string> cells;
      std::stringstream row(line);
      for (std::string c; std::getline(row, c, ',');) cells.push_back(c);
      if (header)
        for (const auto& c : cells) keep.push_back(!kTimingKeys.count(c));
      for (size_t i = 0; i < cells.size(); ++i)
        if (i >= keep.size() || keep[i]) out += cells[i] + ",";
      out += "\n";
    }
    return out;
  }
  if (p.filename() == "summary.txt") return std::regex_replace(text, std::regex(R"([0-9.]+ ?s\b)"), "<time>");
  return text;
}

bool excepted(const fs::path& p) { return p.extension() == ".log"; }

// Relative path -> comparable content of every file below dir.
std::map<std::string, std::string> outputs(const std::string& dir,
                                           const std::function<std::string(const fs::path&)>& compare = comparable) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && !excepted(e.path())) files[fs::relative(e.path(), dir).string()] = compare(e.path());
  return files;
}

// A quickstart's files as compared: the whole networks it times at the end
// (latency_measured_ms in summary.json, the "measured ms" column of summary.txt) are
// measurements and set aside.
std::string quickstart_comparable(const fs::path& p) {
  if (p.filename() == "summary.json") {
    auto j = nlohmann::json::parse(slurp(p));
    for (auto& m : j["models"]) m.erase("latency_measured_ms");
    return j.dump();
  }
  if (p.filename() == "summary.txt" && p.parent_path().filename() == "qs") {
    std::string out, line;
    std::istringstream in(comparable(p));
    while (std::getline(in, line))
      out += std::regex_replace(line, std::regex(R"(^(.{36}\s+[0-9.]+\s+)[0-9.]+)"), "$1<measured>") + "\n";
    return out;
  }
  return comparable(p);
}

// Profiles the quickstart's latency table once (measured values are inputs, not outputs:
// every quickstart run of a test is given this table).
const std::string& quickstart_table() {
  static const std::string table = [] {
    const auto t = hwnas::test::temp_dir("quickstart_table") + "/cpu_table.json";
    const int code = run_binary({"profile", "--space", "nb201", "--space-config",
                                 R"({"channels": 8, "cells_per_stage": 1, "input_channels": 1, "input_size": 28, "num_classes": 10})",
                                 "--threads", "1", "--min-time", "0.002", "--out", t},
                                t + ".log");
    if (code != 0) throw std::runtime_error("profiling the quickstart's table failed: " + slurp(t + ".log"));
    return t;
  }();
  return table;
}

// A quickstart folder `out`/qs holding the table.
void with_quickstart_table(const std::string& out) {
  fs::create_directories(out + "/qs");
  fs::copy_file(quickstart_table(), out + "/qs/cpu_table.json");
}

std::vector<std::string> quickstart_args(const std::string& out, const std::string& seed) {
  return {"quickstart", "-n", "2", "--search-steps", "5", "--epochs", "1", "--train-size", "500", "--budget", "1.0",
          "--seed", seed, "--no-progress", "--out", out + "/qs"};
}

// Runs `make_args(out, seed)` as seed 1 twice and seed 2 once, each writing below the same
// folder `out` (paths are inputs too: config.json records the output), which is then
// moved aside; the two seed-1 runs must write the same files with the same content, the
// seed-2 run something else.
void check_deterministic(const std::string& name, const std::function<std::vector<std::string>(const std::string&,
                                                                                             const std::string&)>& make_args,
                         const std::vector<std::string>& expected_files,
                         const std::function<void(const std::string&)>& prepare = {},
                         const std::function<std::string(const fs::path&)>& compare = comparable) {
  const auto root = hwnas::test::temp_dir("determinism_" + name);
  std::map<std::string, std::map<std::string, std::string>> got;
  for (const auto& [run, seed] : {std::pair{"a", "1"}, std::pair{"b", "1"}, std::pair{"c", "2"}}) {
    const auto out = root + "/out";
    fs::create_directories(out);
    if (prepare) prepare(out);
    const int code = run_binary(make_args(out, seed), root + "/" + run + ".log");
    INFO(name << " run " << run << ": " << slurp(root + "/" + run + ".log"));
    REQUIRE(code == 0);
    got[run] = outputs(out, compare);
    fs::rename(out, root + "/" + run);
  }
  for (const auto& f : expected_files) {
    INFO(name << ": " << f);
    REQUIRE(got["a"].count(f));
  }
  REQUIRE(got["a"].size() == got["b"].size());
  for (const auto& [file, content] : got["a"]) {
    INFO(name << ": " << file << " differs between two runs with the same seed");
    CHECK(got["b"][file] == content);
  }
  INFO(name << ": a run with another seed wrote the same files: the seed is not used");
  CHECK(got["a"] != got["c"]);
}

}  // namespace

TEST_CASE("hwnas train writes the same bytes in two processes", "[cli][determinism]") {
  check_deterministic("train", [](const std::string& out, const std::string& seed) {
    return std::vector<std::string>{"--threads", "1", "train", "--space", "nb201", "--space-config", kTinyNb201,
                                    "--arch", kArch, "--epochs", "2", "--steps-per-epoch", "5", "--train-size", "1000",
                                    "--test-size", "200", "--seed", seed, "--no-progress", "--out", out + "/run"};
  }, {"run/weights.pt", "run/train.json", "run/arch.json", "run/checkpoint/checkpoint.pt"});
}

TEST_CASE("hwnas search with short training and evolution writes the same bytes in two processes",
          "[cli][determinism]") {
  check_deterministic("search", [](const std::string& out, const std::string& seed) {
    const nlohmann::json config{
        {"space", {{"name", "nb201"}, {"config", nlohmann::json::parse(kTinyNb201)}}},
        {"strategy", {{"name", "evolution"}, {"population", 3}, {"sample_size", 2}}},
        {"evaluator", {{"name", "short_training"}, {"options", {{"steps", 5}, {"batch_size", 32}}},
                       {"data", {{"train_size", 500}, {"valid_size", 200}}}}},
        {"objectives", {{{"metric", "val_accuracy"}, {"goal", "max"}}}},
        {"budget", {{"evaluations", 5}}},
        {"seed", std::stoi(seed)},
        {"output", out + "/run"}};
    hwnas::write_file_atomic(out + ".json", config.dump());
    return std::vector<std::string>{"--threads", "1", "search", "-c", out + ".json", "--no-progress"};
  }, {"run/log.jsonl", "run/best.json", "run/pareto.json", "run/checkpoint.json", "run/config.json"});
}

TEST_CASE("hwnas evaluate and hwnas proxies write the same bytes in two processes", "[cli][determinism]") {
  check_deterministic("evaluate", [](const std::string& out, const std::string& seed) {
    return std::vector<std::string>{"--threads", "1", "evaluate", "--space", "nb201", "--space-config", kTinyNb201,
                                    "-e", "short_training", "--config", R"({"steps": 5, "batch_size": 32})",
                                    "--train-size", "500", "--valid-size", "200", "-n", "2", "--seed", seed,
                                    "--out", out + "/acc.csv"};
  }, {"acc.csv"});
  check_deterministic("proxies", [](const std::string& out, const std::string& seed) {
    return std::vector<std::string>{"--threads", "1", "proxies", "--space", "nb201", "--space-config", kTinyNb201,
                                    "-n", "3", "--seed", seed, "--train-size", "64",
                                    "--out", out + "/proxies.csv"};
  }, {"proxies.csv"});
}

TEST_CASE("hwnas predictor fit (gcn with dropout, mlp, residual) writes the same bytes in two processes", "[cli][determinism]") {
  const auto table = hwnas::test::source_dir() + "/benchmarks/data/nb201_fmnist_gt.csv";
  for (const auto& [predictor, config] :
       {std::pair{"gcn", R"({"epochs": 5, "hidden": 16, "linear_hidden": 16, "seed": %})"},
        std::pair{"mlp", R"({"epochs": 5, "hidden": [16], "seed": %})"},
        std::pair{"residual", R"({"predictor": "mlp", "config": {"epochs": 5, "hidden": [8]}, "seed": %})"}}) {
    check_deterministic(std::string("predictor_") + predictor, [&](const std::string& out, const std::string& seed) {
      auto c = std::string(config);
      c.replace(c.find('%'), 1, seed);
      return std::vector<std::string>{"predictor", "fit", "--space", "nb201", "--data", table, "-t", "val_accuracy",
                                      "-p", predictor, "-c", c, "-o", out + "/p.json"};
    }, {"p.json"});
  }
}

TEST_CASE("hwnas train-supernet and a differentiable search write the same bytes in two processes",
          "[cli][determinism]") {
  check_deterministic("train_supernet", [](const std::string& out, const std::string& seed) {
    return std::vector<std::string>{"--threads", "1", "train-supernet", "--space", "nb201", "--space-config",
                                    kTinyNb201, "--train-size", "320", "--options",
                                    R"({"epochs": 1, "batch_size": 32, "seed": )" + seed + "}", "--no-progress",
                                    "--out", out + "/supernet.pt"};
  }, {"supernet.pt", "supernet.pt.ckpt"});
  check_deterministic("pcdarts", [](const std::string& out, const std::string& seed) {
    const nlohmann::json config{
        {"space", {{"name", "nb201"}, {"config", nlohmann::json::parse(kTinyNb201)}}},
        {"strategy", {{"name", "pcdarts"}, {"epochs", 1}, {"steps_per_epoch", 3}, {"batch_size", 32}}},
        {"evaluator", {{"name", "none"}, {"data", {{"train_size", 320}, {"valid_size", 64}}}}},
        {"objectives", {{{"metric", "params"}, {"goal", "min"}}}},
        {"budget", {{"evaluations", 1}}},
        {"seed", std::stoi(seed)},
        {"output", out + "/run"}};
    hwnas::write_file_atomic(out + ".json", config.dump());
    return std::vector<std::string>{"--threads", "1", "search", "-c", out + ".json", "--no-progress"};
  }, {"run/epochs.jsonl", "run/best.json", "run/search.pt"});
}

TEST_CASE("hwnas quickstart with a given latency table writes the same bytes in two processes",
          "[cli][determinism][quickstart]") {
  check_deterministic("quickstart", quickstart_args,
                      {"qs/search/log.jsonl", "qs/winner/weights.pt", "qs/baseline/weights.pt",
                       "qs/winner/export/model.pt", "qs/winner/export/model.onnx", "qs/winner/export/model.json",
                       "qs/summary.json"},
                      with_quickstart_table, quickstart_comparable);
}

TEST_CASE("hwnas train killed and resumed in a new process ends with the uninterrupted run's bytes",
          "[cli][determinism][resume]") {
  const auto root = hwnas::test::temp_dir("determinism_train_resume");
  auto args = [&](const std::string& out) {
    return std::vector<std::string>{"--threads", "1", "train", "--space", "nb201", "--space-config", kTinyNb201,
                                    "--arch", kArch, "--epochs", "3", "--steps-per-epoch", "6", "--train-size", "1000",
                                    "--test-size", "200", "--seed", "5", "--no-progress", "--resume", "--out", out};
  };
  REQUIRE(run_binary(args(root + "/whole"), root + "/whole.log") == 0);
  // Killed (SIGKILL) once its first epoch's checkpoint exists, then resumed.
  const auto part = root + "/part";
  const pid_t child = hwnas::test::spawn_hwnas(args(part));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!fs::exists(part + "/checkpoint/checkpoint.pt") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  REQUIRE(fs::exists(part + "/checkpoint/checkpoint.pt"));
  REQUIRE_FALSE(fs::exists(part + "/weights.pt"));
  REQUIRE(run_binary(args(part), root + "/part.log") == 0);
  INFO(slurp(root + "/part.log"));
  CHECK(slurp(part + "/weights.pt") == slurp(root + "/whole/weights.pt"));
  CHECK(slurp(part + "/checkpoint/checkpoint.pt") == slurp(root + "/whole/checkpoint/checkpoint.pt"));
  CHECK(comparable(part + "/train.json") == comparable(root + "/whole/train.json"));
  CHECK(slurp(root + "/part.log").find("resumed after epoch") != std::string::npos);
}

// --- interruptions: SIGKILL at seeded random points ------------------------------------
namespace {

// Runs `args` (which include --resume, so a rerun continues) once uninterrupted, then again
// in a fresh folder with SIGKILL at `points` seeded random moments, each followed by a
// rerun, until a run finishes by itself. The interrupted chain must end with the same files
// as the uninterrupted run. HWNAS_KILL_POINTS overrides `points` (docs/reliability.md).
void check_kill_resume(const std::string& name,
                       const std::function<std::vector<std::string>(const std::string&)>& make_args,
                       int points, const std::function<std::string(const fs::path&)>& compare = comparable,
                       const std::function<void(const std::string&)>& prepare = {}) {
  if (const char* env = std::getenv("HWNAS_KILL_POINTS")) points = std::max(1, std::atoi(env));
  const auto root = hwnas::test::temp_dir("kill_" + name);
  // The uninterrupted run, timed: kill moments are drawn from its duration.
  const auto start = std::chrono::steady_clock::now();
  const auto out = root + "/out";
  const auto fresh = [&] {
    fs::remove_all(out);
    fs::create_directories(out);
    if (prepare) prepare(out);
  };
  fresh();
  REQUIRE(run_binary(make_args(out), root + "/whole.log") == 0);
  const double whole_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fs::rename(out, root + "/whole");
  fresh();
  std::mt19937_64 rng(20261201);
  std::uniform_real_distribution<double> at(0.05, 1.0);
  int kills = 0, reruns = 0;
  for (;;) {
    ++reruns;
    REQUIRE(reruns < points + 50);
    const pid_t child = hwnas::test::spawn_hwnas(make_args(out));
    REQUIRE(child > 0);
    int status = 0;
    bool exited = false;
    if (kills < points) {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(at(rng) * whole_s);
      while (std::chrono::steady_clock::now() < deadline)
        if (waitpid(child, &status, WNOHANG) == child) {
          exited = true;
          break;
        } else {
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
      if (!exited) {
        ::kill(child, SIGKILL);
        waitpid(child, &status, 0);
        ++kills;
        continue;
      }
    } else {
      waitpid(child, &status, 0);
    }
    INFO(name << ": a resumed run failed with status " << status);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    if (kills >= points) break;
    // It finished before the kill: start over in a fresh folder, so every point lands.
    fresh();
  }
  INFO(name << ": " << kills << " kills, " << reruns << " runs");
  std::map<std::string, std::string> whole, killed;
  for (const auto& [dir, files] : {std::pair{root + "/whole", &whole}, std::pair{out, &killed}})
    for (const auto& e : fs::recursive_directory_iterator(dir))
      if (e.is_regular_file() && !excepted(e.path())) (*files)[fs::relative(e.path(), dir).string()] = compare(e.path());
  std::vector<std::string> whole_names, killed_names;
  for (const auto& [file, content] : whole) whole_names.push_back(file);
  for (const auto& [file, content] : killed) killed_names.push_back(file);
  REQUIRE(killed_names == whole_names);  // no file left behind by a kill, none missing
  for (const auto& [file, content] : whole) {
    INFO(name << ": " << file << " differs from the uninterrupted run's");
    CHECK(killed[file] == content);
  }
}

// A latency table's measured values differ from run to run: its layers must not.
std::string table_layers(const fs::path& p) {
  if (p.extension() != ".json") return comparable(p);
  auto j = nlohmann::json::parse(slurp(p));
  std::string keys;
  for (const auto& [section, entries] : j.at("sections").items())
    for (const auto& [key, value] : entries.items()) keys += section + "/" + key + "\n";
  return keys;
}

}  // namespace

TEST_CASE("search, train, train-supernet, evaluate and profile killed at random points end as uninterrupted runs",
          "[cli][determinism][resume][kill]") {
  check_kill_resume("search", [](const std::string& out) {
    const nlohmann::json config{
        {"space", {{"name", "nb201"}, {"config", nlohmann::json::parse(kTinyNb201)}}},
        {"strategy", {{"name", "evolution"}, {"population", 4}, {"sample_size", 2}}},
        {"evaluator", {{"name", "short_training"}, {"options", {{"steps", 3}, {"batch_size", 32}}},
                       {"data", {{"train_size", 200}, {"valid_size", 100}}}}},
        {"objectives", {{{"metric", "val_accuracy"}, {"goal", "max"}}}},
        {"budget", {{"evaluations", 12}}},
        {"seed", 4},
        {"output", out + "/run"}};
    hwnas::write_file_atomic(out + "/../search.json", config.dump());
    return std::vector<std::string>{"--threads", "1", "search", "-c", out + "/../search.json", "--resume", "--no-progress"};
  }, 5);
  check_kill_resume("train", [](const std::string& out) {
    return std::vector<std::string>{"--threads", "1", "train", "--space", "nb201", "--space-config", kTinyNb201,
                                    "--arch", kArch, "--epochs", "6", "--steps-per-epoch", "4", "--train-size", "600",
                                    "--test-size", "100", "--seed", "2", "--no-progress", "--resume", "--out",
                                    out + "/run"};
  }, 5);
  check_kill_resume("train_supernet", [](const std::string& out) {
    return std::vector<std::string>{"--threads", "1", "train-supernet", "--space", "nb201", "--space-config",
                                    kTinyNb201, "--train-size", "192", "--options",
                                    R"({"epochs": 6, "batch_size": 32, "seed": 3})", "--no-progress", "--resume",
                                    "--out", out + "/supernet.pt"};
  }, 5);
  check_kill_resume("evaluate", [](const std::string& out) {
    return std::vector<std::string>{"--threads", "1", "evaluate", "--space", "nb201", "--space-config", kTinyNb201,
                                    "-e", "short_training", "--config", R"({"steps": 3, "batch_size": 32})",
                                    "--train-size", "200", "--valid-size", "100", "-n", "8", "--seed", "5", "--resume",
                                    "--out", out + "/acc.csv"};
  }, 5);
  check_kill_resume("profile", [](const std::string& out) {
    return std::vector<std::string>{"profile", "--space", "nb201", "--space-config", kTinyNb201, "--threads", "1",
                                    "--min-time", "0.002", "--resume", "--out", out + "/table.json"};
  }, 5, table_layers);
}

TEST_CASE("quickstart killed at random points ends as an uninterrupted run", "[cli][determinism][resume][kill]") {
  // From a finished latency table (its values are measurements); the search, both
  // trainings, the export and the summaries are compared.
  check_kill_resume("quickstart", [](const std::string& out) { return quickstart_args(out, "3"); }, 3,
                    quickstart_comparable, with_quickstart_table);
}
