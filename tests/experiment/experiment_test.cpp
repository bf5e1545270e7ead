#include <atomic>
#include <chrono>
#include <csignal>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "hwnas/core/io.h"
#include "hwnas/core/search_space.h"
#include "hwnas/cost/analytic.h"
#include "hwnas/cost/latency_table.h"
#include "hwnas/predictors/predictor.h"
#include "hwnas/estimate/learned_latency.h"
#include "hwnas/experiment/config.h"
#include "hwnas/experiment/runner.h"
#include "hwnas/search_spaces/registry.h"
#include "cli/cli_util.h"
#include "test_util.h"

using namespace hwnas;
using namespace hwnas::experiment;
namespace fs = std::filesystem;
using strategy::Direction;

namespace {

// A search on analytic costs only (no training): fast and exactly reproducible.
ExperimentConfig cost_search(const std::string& out, const std::string& strategy = "evolution") {
  nlohmann::json strategy_config = nlohmann::json::object();
  if (strategy == "evolution") strategy_config = {{"population", 10}, {"sample_size", 3}};
  if (strategy == "nsga2") strategy_config = {{"population", 10}};
  if (strategy == "linas")  // a round per batch
    strategy_config = {{"population", 7}, {"inner_evaluations", 200}, {"inner", {{"population", 10}}}, {"predictor", "ridge"}};
  return ExperimentConfig()
      .space("nb201")
      .strategy(strategy)
      .strategy_config(strategy_config)
      .objectives({{"macs", Direction::kMaximize}, {"params", Direction::kMinimize}})
      .constraints({"params <= 0.6M"})
      .budget(Budget().evaluations(60))
      .batch_size(7)
      .seed(3)
      .output(out);
}

// The log without its timings (which differ between runs).
std::vector<nlohmann::json> log_of(const std::string& dir) {
  std::ifstream in(fs::path(dir) / "log.jsonl");
  std::vector<nlohmann::json> rows;
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    j.erase("time_s");
    rows.push_back(j);
  }
  return rows;
}

nlohmann::json json_file(const std::string& path) {
  auto j = nlohmann::json::parse(read_file(path, "result"));
  auto strip = [](nlohmann::json& r) { r.erase("time_s"); };
  if (j.is_array())
    for (auto& r : j) strip(r);
  else
    strip(j);
  return j;
}

void require_same_run(const std::string& a, const std::string& b) {
  REQUIRE(log_of(a) == log_of(b));
  REQUIRE(json_file(a + "/best.json") == json_file(b + "/best.json"));
  REQUIRE(json_file(a + "/pareto.json") == json_file(b + "/pareto.json"));
}

}  // namespace

TEST_CASE("constraints parse with units and measure their shortfall", "[experiment]") {
  auto c = Constraint::parse("latency@cpu <= 8 ms");
  CHECK(c.metric == "latency@cpu");
  CHECK(c.op == Constraint::Op::kLessEqual);
  CHECK(c.limit == 8);
  CHECK(Constraint::parse("latency@cpu<0.5s").limit == 500);
  CHECK(Constraint::parse("latency@x >= 300us").limit == Approx(0.3));
  CHECK(Constraint::parse("params <= 2e6").limit == 2e6);
  CHECK(Constraint::parse("params <= 2M").limit == 2e6);
  CHECK(Constraint::parse("activation_bytes <= 1 MiB").limit == 1048576);
  CHECK(Constraint::parse("val_accuracy > 0.9").op == Constraint::Op::kGreater);
  CHECK(c.violation(7) == 0);
  CHECK(c.violation(8) == 0);
  CHECK(c.violation(10) == Approx(0.25));
  CHECK(Constraint::parse("val_accuracy >= 0.8").violation(0.6) == Approx(0.25));
  CHECK(Constraint::parse("params < 10").violation(10) > 0);
  REQUIRE_THROWS_WITH_ALL(ParseError, Constraint::parse("params 10"), "no comparison");
  REQUIRE_THROWS_WITH_ALL(ParseError, Constraint::parse("<= 10"), "no metric");
  REQUIRE_THROWS_WITH_ALL(ParseError, Constraint::parse("params <= ten"), "not a number");
  REQUIRE_THROWS_WITH_ALL(ParseError, Constraint::parse("latency@cpu <= 8 M"), "unknown unit 'M'", "us, ms or s");
  REQUIRE_THROWS_WITH_ALL(ParseError, Constraint::parse("params <= 8 ms"), "unknown unit 'ms'");
}

TEST_CASE("hypervolume matches hand-computed areas and volumes", "[experiment]") {
  const std::vector<strategy::Objective> min2 = {{"a", Direction::kMinimize}, {"b", Direction::kMinimize}};
  // Staircase of (1,3), (2,2), (3,1) under reference (4,4): 3 + 2 + 1 = 6.
  CHECK(hypervolume({{1, 3}, {2, 2}, {3, 1}}, {4, 4}, min2) == Approx(6));
  // A dominated point and one outside the reference add nothing.
  CHECK(hypervolume({{1, 3}, {2, 2}, {3, 1}, {3, 3}, {5, 0}}, {4, 4}, min2) == Approx(6));
  // Maximised objective: accuracy 0.8 at latency 10 vs reference (0.5, 20): 0.3 * 10.
  const std::vector<strategy::Objective> acc_lat = {{"acc", Direction::kMaximize}, {"lat", Direction::kMinimize}};
  CHECK(hypervolume({{0.8, 10}}, {0.5, 20}, acc_lat) == Approx(3));
  // Three objectives: two unit cubes' union from (0,0,1) and (1,0,0) under (2,2,2):
  // boxes 2x2x1 and 1x2x2 overlap in 1x2x1 -> 4 + 4 - 2 = 6.
  const std::vector<strategy::Objective> min3 = {{"a", Direction::kMinimize}, {"b", Direction::kMinimize},
                                                 {"c", Direction::kMinimize}};
  CHECK(hypervolume({{0, 0, 1}, {1, 0, 0}}, {2, 2, 2}, min3) == Approx(6));
  CHECK(hypervolume({}, {2, 2, 2}, min3) == 0);
}

TEST_CASE("the nadir is the worst feasible value per objective, in each objective's direction", "[experiment]") {
  const std::vector<strategy::Objective> acc_lat = {{"acc", Direction::kMaximize}, {"lat", Direction::kMinimize}};
  auto record = [](double acc, double lat, double violation) {
    Record r;
    r.objectives = {acc, lat};
    r.violation = violation;
    return r;
  };
  // The infeasible (0.1, 99) is left out: worst accuracy 0.7, worst latency 12.
  const auto n = nadir({record(0.9, 12, 0), record(0.7, 5, 0), record(0.1, 99, 0.5)}, acc_lat);
  CHECK(n == std::vector<double>{0.7, 12});
  const auto none = nadir({record(0.1, 99, 0.5)}, acc_lat);
  REQUIRE(none.size() == 2);
  CHECK((std::isnan(none[0]) && std::isnan(none[1])));
  // The single-objective order: violation first, then the first objective's direction.
  CHECK(strategy::ranks_before(0, 0.5, 0.1, 0.9, Direction::kMaximize));
  CHECK(strategy::ranks_before(0, 0.9, 0, 0.5, Direction::kMaximize));
  CHECK(strategy::ranks_before(0, 0.5, 0, 0.9, Direction::kMinimize));
  CHECK_FALSE(strategy::ranks_before(0, 0.5, 0, 0.5, Direction::kMinimize));
}

TEST_CASE("experiment configs read every field and name bad ones", "[experiment]") {
  const nlohmann::json j = {
      {"space", {{"name", "nb201"}, {"config", {{"channels", 8}}}}},
      {"strategy", {{"name", "nsga2"}, {"population", 20}}},
      {"evaluator", {{"name", "tabular"}, {"table", "t.csv"}}},
      {"latency_tables", {{"cpu", "cpu.json"}}},
      {"objectives", {{{"metric", "val_accuracy"}, {"goal", "max"}}, {{"metric", "latency@cpu"}, {"goal", "min"}}}},
      {"constraints", {"latency@cpu <= 8 ms"}},
      {"budget", {{"evaluations", 500}, {"seconds", 60}}},
      {"seed", 4}, {"batch_size", 20}, {"threads", 2}, {"output", "runs/a"}};
  const auto c = ExperimentConfig::from_json(j, "/base");
  CHECK(c.space() == "nb201");
  CHECK(c.space_config()["channels"] == 8);
  CHECK(c.strategy() == "nsga2");
  CHECK(c.strategy_config()["population"] == 20);
  CHECK(c.evaluator()["table"] == "/base/t.csv");
  CHECK(c.latency_tables().at("cpu") == "/base/cpu.json");
  CHECK(c.objectives().size() == 2);
  CHECK(c.objectives()[1].direction == Direction::kMinimize);
  CHECK(c.budget().evaluations() == 500);
  CHECK(c.budget().seconds() == 60);
  CHECK(c.output() == "/base/runs/a");
  // The JSON form reads back to the same config.
  CHECK(ExperimentConfig::from_json(c.to_json()).to_json() == c.to_json());

  auto with = [&](const char* key, const nlohmann::json& v) {
    auto k = j;
    k[key] = v;
    return k;
  };
  REQUIRE_THROWS_WITH_ALL(ConfigError, ExperimentConfig::from_json(with("budget", {{"evaluations", 0}})), "budget is zero");
  REQUIRE_THROWS_WITH_ALL(ConfigError, ExperimentConfig::from_json(with("objectives", nlohmann::json::array())),
                          "\"objectives\"");
  REQUIRE_THROWS_WITH_ALL(ConfigError,
                          ExperimentConfig::from_json(with("objectives", {{{"metric", "x"}, {"goal", "up"}}})),
                          "'up'", "max, min");
  REQUIRE_THROWS_WITH_ALL(ConfigError, ExperimentConfig::from_json(with("budgte", 1)), "budgte");
  REQUIRE_THROWS_WITH_ALL(ParseError, ExperimentConfig::from_json(with("constraints", {"params = 3"})), "params = 3");
  REQUIRE_THROWS_WITH_ALL(ConfigError, ExperimentConfig::from_json(with("reference_point", {1})), "one number per objective");
}

TEST_CASE("unknown strategy, metric or evaluator names list the valid ones", "[experiment]") {
  const auto dir = test::temp_dir("exp_names");
  REQUIRE_THROWS_WITH_ALL(ConfigError, Experiment(cost_search(dir).objectives({{"accuracy", Direction::kMaximize}})),
                          "Unknown objective metric 'accuracy'", "params, macs, activation_bytes");
  REQUIRE_THROWS_WITH_ALL(ConfigError, Experiment(cost_search(dir).constraints({"latency@pixel <= 3 ms"})),
                          "latency@pixel", "params, macs");
  REQUIRE_THROWS_WITH_ALL(NotFoundError, Experiment(cost_search(dir, "annealing")), "annealing", "evolution", "nsga2", "random");
  REQUIRE_THROWS_WITH_ALL(ConfigError, Experiment(cost_search(dir).evaluator({{"name", "oracle"}})), "oracle",
                          "short_training", "tabular");
}

TEST_CASE("a search runs to its budget and writes log, best, front and summary", "[experiment]") {
  const auto dir = test::temp_dir("exp_run");
  Experiment exp(cost_search(dir + "/run"));
  const auto r = exp.run();
  CHECK(r.evaluations == 60);
  CHECK_FALSE(r.stopped);
  REQUIRE(r.feasible_found);
  REQUIRE(r.best);
  CHECK(r.best->metrics.at("params") <= 0.6e6);
  CHECK(test::lines_in(dir + "/run/log.jsonl") == 60);
  for (const char* f : {"best.json", "pareto.json", "summary.txt", "checkpoint.json", "config.json"})
    CHECK(fs::exists(fs::path(dir) / "run" / f));
  // The front: feasible, mutually non-dominated, and no logged feasible arch dominates it.
  REQUIRE_FALSE(r.front.empty());
  const auto log = log_of(dir + "/run");
  for (const auto& f : r.front) {
    CHECK(f.feasible());
    for (const auto& row : log) {
      if (!row["feasible"].get<bool>()) continue;
      const double macs = row["metrics"]["macs"], params = row["metrics"]["params"];
      const bool dominates = macs >= f.metrics.at("macs") && params <= f.metrics.at("params") &&
                             (macs > f.metrics.at("macs") || params < f.metrics.at("params"));
      CHECK_FALSE(dominates);
    }
  }
  // The metrics logged are the analytic costs of the arch.
  const auto arch = exp.space()->parse(log[5]["arch"].get<std::string>());
  CHECK(log[5]["metrics"]["macs"].get<double>() == cost::network_cost(exp.space()->layers(arch)).macs);
  CHECK(r.hypervolume > 0);
  CHECK(r.reference_point.size() == 2);
  CHECK(summary_table(r).find("hypervolume") != std::string::npos);
}

TEST_CASE("a stopped run resumes to exactly the uninterrupted result", "[experiment]") {
  const auto dir = test::temp_dir("exp_resume");
  for (const std::string strategy : {"random", "evolution", "nsga2", "linas"}) {
    DYNAMIC_SECTION(strategy) {
      Experiment(cost_search(dir + "/full_" + strategy, strategy)).run();
      std::atomic<bool> stop{false};
      int batches = 0;
      const auto part = cost_search(dir + "/part_" + strategy, strategy);
      const auto first = Experiment(part).run(RunOptions().stop(&stop).on_batch([&](const Progress&) {
        if (++batches == 3) stop = true;
      }));
      CHECK(first.stopped);
      CHECK(first.evaluations == 21);
      const auto second = Experiment(part).run(RunOptions().resume(true));
      CHECK(second.evaluations == 60);
      require_same_run(dir + "/full_" + strategy, dir + "/part_" + strategy);
    }
  }
}

TEST_CASE("a run killed with SIGKILL resumes to exactly the uninterrupted result", "[experiment]") {
  const auto dir = test::temp_dir("exp_kill");
  // Checkpoint after every arch, with a proxy evaluator, so a kill lands anywhere: in an
  // evaluation, between log and checkpoint, or in the middle of writing one.
  nlohmann::json config = {
      {"space", {{"name", "nb201"}, {"config", {{"channels", 4}, {"cells_per_stage", 1}}}}},
      {"strategy", {{"name", "evolution"}, {"population", 8}, {"sample_size", 3}}},
      {"evaluator", {{"name", "proxies"}, {"options", {{"proxies", {"synflow"}}, {"batch_size", 16}}},
                     {"data", {{"name", "synthetic"}, {"train_size", 32}, {"valid_size", 8}}}}},
      {"objectives", {{{"metric", "synflow"}, {"goal", "max"}}}},
      {"constraints", {"params <= 20K"}},
      {"budget", {{"evaluations", 40}}},
      {"seed", 1}};
  write_file_atomic(dir + "/exp.json", config.dump());
  const auto killed = dir + "/killed";
  const pid_t child = test::spawn_hwnas({"--threads", "1", "search", "-c", dir + "/exp.json", "-o", killed, "--no-progress"});
  REQUIRE(child > 0);
  // Kill it once it has evaluated some archs.
  int status = 0;
  const bool running = test::wait_for_lines(child, killed + "/log.jsonl", 12, status);
  INFO("the search exited by itself with status " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1));
  REQUIRE(running);
  kill(child, SIGKILL);
  waitpid(child, &status, 0);
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(WTERMSIG(status) == SIGKILL);
  const auto logged = test::lines_in(killed + "/log.jsonl");
  INFO("killed after " << logged << " logged evaluations");
  REQUIRE(logged < 40);

  auto c = ExperimentConfig::from_json(config);
  const auto resumed = Experiment(c.output(killed)).run(RunOptions().resume(true));
  CHECK(resumed.evaluations == 40);
  Experiment(c.output(dir + "/full")).run();
  require_same_run(killed, dir + "/full");
}

TEST_CASE("two threads give the same search as one", "[experiment]") {
  const auto dir = test::temp_dir("exp_threads");
  Experiment(cost_search(dir + "/one")).run();
  Experiment(cost_search(dir + "/two").threads(2)).run();
  require_same_run(dir + "/one", dir + "/two");
}

TEST_CASE("run directories: refuse to clobber, refuse another config, refuse a corrupt checkpoint", "[experiment]") {
  const auto dir = test::temp_dir("exp_dirs");
  const auto run = dir + "/run";
  Experiment(cost_search(run)).run();
  REQUIRE_THROWS_WITH_ALL(ConfigError, Experiment(cost_search(run)).run(), "exists", "--resume", "--overwrite");
  // A different seed: refused, with the difference shown; the old run is untouched.
  const auto before = read_file(run + "/log.jsonl", "log");
  REQUIRE_THROWS_WITH_ALL(ConfigError, Experiment(cost_search(run).seed(9)).run(RunOptions().resume(true)),
                          "different config", "/seed was 3, now 9");
  CHECK(read_file(run + "/log.jsonl", "log") == before);
  // A larger budget continues the same run.
  const auto more = Experiment(cost_search(run).budget(Budget().evaluations(70))).run(RunOptions().resume(true));
  CHECK(more.evaluations == 70);
  // A corrupt checkpoint is refused and kept as it is.
  const std::string garbage = "{\"format\": \"hwnas-search-checkpoint\", \"version\": 1, \"strategy\": {tru";
  write_file_atomic(run + "/checkpoint.json", garbage);
  REQUIRE_THROWS_WITH_ALL(DataError, Experiment(cost_search(run)).run(RunOptions().resume(true)), "corrupt",
                          "checkpoint.json", "kept");
  CHECK(read_file(run + "/checkpoint.json", "checkpoint") == garbage);
  // --overwrite replaces a run, but never a folder that is not one.
  CHECK(Experiment(cost_search(run)).run(RunOptions().overwrite(true)).evaluations == 60);
  fs::create_directories(dir + "/photos");
  write_file_atomic(dir + "/photos/cat.jpg", "meow");
  REQUIRE_THROWS_WITH_ALL(ConfigError, Experiment(cost_search(dir + "/photos")).run(RunOptions().overwrite(true)),
                          "not an hwnas search directory");
  CHECK(fs::exists(dir + "/photos/cat.jpg"));
  REQUIRE_THROWS_WITH_ALL(ConfigError, Experiment(cost_search("")).run(), "no output directory");
}

TEST_CASE("constraints no arch meets: the closest arch is reported", "[experiment]") {
  const auto dir = test::temp_dir("exp_infeasible");
  const auto r = Experiment(cost_search(dir + "/run").constraints({"params <= 10"})).run();
  CHECK_FALSE(r.feasible_found);
  REQUIRE(r.best);
  CHECK(r.best->violation > 0);
  // The closest is the smallest model evaluated.
  for (const auto& row : log_of(dir + "/run")) CHECK(row["metrics"]["params"].get<double>() >= r.best->metrics.at("params"));
  CHECK(summary_table(r).find("NO arch met the constraints") != std::string::npos);
}

TEST_CASE("every strategy runs on every built-in space with a latency table and a predictor", "[experiment]") {
  const auto dir = test::temp_dir("exp_all");
  for (const auto& space_name : space_registry().names()) {
    auto space = std::shared_ptr<SearchSpace>(make_space(space_name));
    // A latency table with an entry per layer of the space (its MACs as latency), and a
    // ridge predictor of MACs fitted on random archs.
    cost::LatencyTable table;
    table.device.name = "sim";
    table.space = space_name;
    table.space_config = space->config();
    for (const auto& l : space->layer_universe())
      table.set("", l.key(), {1e-6 * static_cast<double>(cost::layer_cost(l).macs) + 0.001, 0, 1, {}});
    const auto table_path = dir + "/" + space_name + "_sim.json";
    table.save(table_path);
    Rng rng(0);
    std::vector<Arch> archs;
    std::vector<double> macs;
    for (int i = 0; i < 30; ++i) {
      archs.push_back(space->sample(rng));
      macs.push_back(static_cast<double>(cost::network_cost(space->layers(archs.back())).macs));
    }
    auto p = predictors::make_predictor("ridge");
    p->set_target("predicted_macs");
    p->fit(*space, archs, macs);
    const auto predictor_path = dir + "/" + space_name + "_ridge.json";
    p->save(predictor_path);
    for (const auto& strategy_name : strategy::strategy_registry().names()) {
      DYNAMIC_SECTION(space_name << " / " << strategy_name) {
        auto c = ExperimentConfig()
                     .space(space_name)
                     .strategy(strategy_name)
                     .evaluator({{"name", "predictor"}, {"predictor", predictor_path}})
                     .latency_tables({{"sim", table_path}})
                     .objectives({{"predicted_macs", Direction::kMaximize}, {"latency@sim", Direction::kMinimize}})
                     .budget(Budget().evaluations(12))
                     .batch_size(4)
                     .output(dir + "/" + space_name + "_" + strategy_name);
        if (strategy_name == "evolution") c.strategy_config({{"population", 4}, {"sample_size", 2}});
        if (strategy_name == "nsga2") c.strategy_config({{"population", 4}});
        if (strategy_name == "linas")
          c.strategy_config({{"population", 4}, {"inner_evaluations", 100}, {"inner", {{"population", 8}}}, {"predictor", "ridge"}});
        const auto r = Experiment(c).run();
        CHECK(r.evaluations == 12);
        REQUIRE(r.best);
        CHECK(r.best->metrics.at("latency@sim") > 0);
      }
    }
  }
}

TEST_CASE("running an experiment again starts afresh", "[experiment]") {
  const auto dir = test::temp_dir("exp_twice");
  for (const std::string strategy : {"random", "evolution", "nsga2", "rl"}) {
    DYNAMIC_SECTION(strategy) {
      Experiment exp(cost_search(dir + "/" + strategy, strategy));
      exp.run();
      const auto first = log_of(dir + "/" + strategy);
      exp.run(RunOptions().overwrite(true));
      REQUIRE(log_of(dir + "/" + strategy) == first);
    }
  }
}

TEST_CASE("cost models named in the config give metrics, and a learned latency model constrains a search", "[experiment]") {
  const auto dir = test::temp_dir("exp_cost_models");
  auto space = std::shared_ptr<SearchSpace>(make_space("nb201"));
  // A "device" whose latency is 1 ms per million MACs, learned by ridge from 40 archs.
  Rng rng(1);
  std::vector<Arch> archs;
  std::vector<double> ms;
  for (int i = 0; i < 40; ++i) {
    archs.push_back(space->sample(rng));
    ms.push_back(1e-6 * static_cast<double>(cost::network_cost(space->layers(archs.back())).macs));
  }
  std::vector<cost::Measurement> measured;
  for (size_t i = 0; i < archs.size(); ++i) measured.push_back({archs[i], ms[i]});
  std::shared_ptr<predictors::Predictor> p = predictors::make_predictor("ridge");
  estimate::LearnedLatencyModel learned(space, p);
  learned.fit(measured);
  learned.set_device("sim-learned");
  learned.save(dir + "/model.json");
  p->save(dir + "/learned.json");  // a bare predictor, as an earlier hwnas saved it: needs "device"
  const nlohmann::json models = {{{"name", "analytic"}}, {{"name", "learned"}, {"model", "model.json"}}};
  write_file_atomic(dir + "/exp.json", nlohmann::json({{"space", {{"name", "nb201"}}},
                                                       {"strategy", {{"name", "random"}}},
                                                       {"cost_models", models},
                                                       {"objectives", {{{"metric", "macs"}, {"goal", "max"}}}},
                                                       {"constraints", {"latency@sim-learned <= 60 ms"}},
                                                       {"budget", {{"evaluations", 30}}},
                                                       {"batch_size", 10},
                                                       {"output", "run"}})
                                           .dump());
  const auto config = ExperimentConfig::load(dir + "/exp.json");  // the predictor path is relative to the file
  Experiment exp(config);
  const auto names = exp.metric_names();
  CHECK(std::find(names.begin(), names.end(), "latency@sim-learned") != names.end());
  CHECK(std::find(names.begin(), names.end(), "params") != names.end());
  const auto r = exp.run();
  REQUIRE(r.best);
  CHECK(r.feasible_found);
  CHECK(r.best->metrics.at("latency@sim-learned") <= 60);
  for (const auto& row : log_of(dir + "/run")) {
    const double learned = row["metrics"]["latency@sim-learned"];
    // The metric is the learned model's prediction for the arch.
    CHECK(learned == Approx(p->predict(*space, {space->parse(row["arch"].get<std::string>())}).mean[0]));
    CHECK((row["violation"].get<double>() > 0) == (learned > 60));
  }
  // Bad cost models are named.
  auto bad = [&](nlohmann::json m) { return Experiment(cost_search(dir + "/bad").cost_models(std::move(m))); };
  REQUIRE_THROWS_WITH_ALL(NotFoundError, bad({{{"name", "abacus"}}}), "Unknown cost model 'abacus'", "analytic, latency, learned");
  REQUIRE_THROWS_WITH_ALL(ConfigError, bad({{{"name", "analytic"}}, {{"name", "analytic"}}}), "Two cost models give the metric 'params'");
  REQUIRE_THROWS_WITH_ALL(ConfigError, bad({{{"name", "learned"}, {"predictor", dir + "/learned.json"}}}), "\"device\"");
  REQUIRE_THROWS_WITH_ALL(ConfigError, bad({{{"name", "learned"}, {"model", dir + "/model.json"}, {"table", "t.json"}}}),
                          "learned the latency itself", "remove \"table\"");
  REQUIRE_THROWS_WITH_ALL(ConfigError, bad({{{"name", "analytic"}, {"depth", 3}}}), "depth");
  // Without analytic, its metrics are gone.
  REQUIRE_THROWS_WITH_ALL(ConfigError,
                          bad({{{"name", "learned"}, {"predictor", dir + "/learned.json"}, {"device", "x"}}}),
                          "Unknown objective metric 'macs'", "latency@x");
}
