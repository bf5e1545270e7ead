// Sample efficiency of predictor-guided search: hypervolume against the number of real
// evaluations for linas, nsga2 and random search in the OFA space, with Once-for-All's
// accuracy predictor and its Note10 latency table standing in for real measurements
// (accuracy up, latency down, no constraint). Each strategy runs --seeds seeds; the
// hypervolume of what it evaluated is taken every --step evaluations from one reference
// point: the worst accuracy and latency of 10,000 random archs (seed 12345). nsga2 and
// random are asked for 50 archs at a time, linas for one round (its population).
//
//   bench_linas --ofa data/ofa [--seeds 20] [--budget 2000] [--linas-budget 500]
//               [--linas '{"predictor": "ridge"}'] [--json out.json]
// Results and the command: docs/benchmarks.md.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "hwnas/core/io.h"
#include "hwnas/core/search_space.h"
#include "hwnas/core/threads.h"
#include "hwnas/cost/latency_table.h"
#include "hwnas/experiment/runner.h"
#include "hwnas/predictors/mlp/mlp.h"
#include "hwnas/predictors/predictor.h"
#include "hwnas/search_spaces/registry.h"
#include "hwnas/strategy/strategy.h"

using namespace hwnas;
using Clock = std::chrono::steady_clock;

namespace {

const nlohmann::json kSpaceConfig = {{"width_mult", 1.2}, {"resolutions", {160, 176, 192, 208, 224}}};
const std::vector<strategy::Objective> kObjectives = {{"imagenet_top1", strategy::Direction::kMaximize},
                                                      {"latency@note10", strategy::Direction::kMinimize}};

struct Truth {
  std::shared_ptr<const SearchSpace> space;
  std::shared_ptr<predictors::Predictor> accuracy;
  std::unique_ptr<cost::LatencyModel> latency;
  std::vector<strategy::Evaluation> measure(const std::vector<Arch>& archs) const {
    const auto acc = accuracy->predict(*space, archs).mean;
    std::vector<strategy::Evaluation> out;
    for (size_t i = 0; i < archs.size(); ++i) out.push_back({archs[i], {acc[i], latency->predict(archs[i])}, 0});
    return out;
  }
};

// Hypervolume of the first k evaluations, every `step` (k = step, 2 step, ..., budget).
std::vector<double> curve(const strategy::Strategy& s, int64_t step, const std::vector<double>& reference) {
  std::vector<double> out;
  const auto& h = s.history();
  for (size_t k = static_cast<size_t>(step); k <= h.size(); k += static_cast<size_t>(step)) {
    std::vector<std::vector<double>> points;
    for (const auto& e : strategy::pareto_front({h.begin(), h.begin() + static_cast<std::ptrdiff_t>(k)}, kObjectives))
      points.push_back(e.objectives);
    out.push_back(experiment::hypervolume(points, reference, kObjectives));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string ofa = "data/ofa", json_out, linas_config = "{}";
  int64_t seeds = 20, budget = 2000, linas_budget = 500, step = 50, batch = 50;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--ofa")) ofa = argv[i + 1];
    else if (!std::strcmp(argv[i], "--seeds")) seeds = std::stoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--budget")) budget = std::stoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--linas-budget")) linas_budget = std::stoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--linas")) linas_config = argv[i + 1];
    else if (!std::strcmp(argv[i], "--json")) json_out = argv[i + 1];
  }
  set_threads(1);
  Truth truth;
  truth.space = std::shared_ptr<const SearchSpace>(make_space("ofa", kSpaceConfig));
  auto table = std::make_shared<cost::LatencyTable>(cost::LatencyTable::from_ofa_yaml(ofa + "/note10_lut", "note10"));
  truth.latency = std::make_unique<cost::LatencyModel>(table, truth.space);
  truth.accuracy = predictors::import_ofa_accuracy_predictor(ofa + "/acc_predictor.json", *truth.space);

  std::vector<double> reference;
  {
    Rng rng(12345);
    std::vector<Arch> archs;
    for (int i = 0; i < 10000; ++i) archs.push_back(truth.space->sample(rng));
    double worst_acc = 1, worst_ms = 0;
    for (const auto& e : truth.measure(archs)) {
      worst_acc = std::min(worst_acc, e.objectives[0]);
      worst_ms = std::max(worst_ms, e.objectives[1]);
    }
    reference = {worst_acc, worst_ms};
  }
  const auto linas = nlohmann::json::parse(linas_config);
  const std::vector<std::tuple<std::string, nlohmann::json, int64_t>> runs = {
      {"linas", linas, linas_budget}, {"nsga2", {{"population", 50}}, budget}, {"random", nlohmann::json::object(), budget}};
  nlohmann::json report = {{"reference", reference}, {"seeds", seeds}, {"step", step}, {"batch", batch},
                           {"space_config", kSpaceConfig}};
  std::cout << fmt::format("reference point: accuracy {:.4f}, latency {:.2f} ms; {} seeds, batches of {}\n", reference[0],
                           reference[1], seeds, batch);
  for (const auto& [name, config, evaluations] : runs) {
    std::vector<std::vector<double>> curves;
    const auto t0 = Clock::now();
    for (int64_t seed = 0; seed < seeds; ++seed) {
      auto s = strategy::make_strategy(name, config);
      s->setup(truth.space, kObjectives, static_cast<uint64_t>(seed));
      // linas is asked for one round at a time (what it proposes from one fit).
      const int64_t b = name == "linas" ? s->config()["population"].get<int64_t>() : batch;
      for (int64_t done = 0; done < evaluations; done += b) s->tell(truth.measure(s->ask(std::min(b, evaluations - done))));
      curves.push_back(curve(*s, step, reference));
    }
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    std::vector<double> mean(curves.front().size(), 0.0), sd(mean.size(), 0.0);
    for (const auto& c : curves)
      for (size_t k = 0; k < c.size(); ++k) mean[k] += c[k] / static_cast<double>(seeds);
    for (const auto& c : curves)
      for (size_t k = 0; k < c.size(); ++k) sd[k] += (c[k] - mean[k]) * (c[k] - mean[k]) / std::max<double>(1, seeds - 1);
    for (auto& v : sd) v = std::sqrt(v);
    report[name] = {{"config", strategy::make_strategy(name, config)->config()}, {"evaluations", evaluations},
                    {"mean", mean}, {"std", sd}, {"seconds", secs}};
    std::cout << fmt::format("{:<7} {}: {:.1f} s for {} seeds\n", name, strategy::make_strategy(name, config)->config().dump(), secs, seeds);
  }
  // The table: mean (std) hypervolume at each number of real evaluations.
  std::cout << fmt::format("{:>11} {:>17} {:>17} {:>17}\n", "evaluations", "linas", "nsga2", "random");
  for (size_t k = 0; k < report["nsga2"]["mean"].size(); ++k) {
    std::string line = fmt::format("{:>11}", (k + 1) * static_cast<size_t>(step));
    for (const char* name : {"linas", "nsga2", "random"}) {
      const auto& r = report[name];
      line += k < r["mean"].size() ? fmt::format(" {:>9.5f} ({:.5f})", r["mean"][k].get<double>(), r["std"][k].get<double>())
                                   : fmt::format(" {:>17}", "");
    }
    std::cout << line << "\n";
  }
  // The goal: linas at nsga2's final hypervolume within a quarter of nsga2's evaluations.
  const double target = report["nsga2"]["mean"].back().get<double>();
  int64_t reached = -1;
  for (size_t k = 0; k < report["linas"]["mean"].size() && reached < 0; ++k)
    if (report["linas"]["mean"][k].get<double>() >= target) reached = static_cast<int64_t>(k + 1) * step;
  report["nsga2_final"] = target;
  report["linas_evaluations_to_nsga2_final"] = reached;
  std::cout << fmt::format("nsga2 after {} evaluations: {:.5f}; linas reaches it after {}\n", budget, target,
                           reached < 0 ? fmt::format("more than {} evaluations", linas_budget) : fmt::format("{} ({:.2f} of nsga2's)", reached,
                                                                                                 static_cast<double>(reached) / static_cast<double>(budget)));
  if (!json_out.empty()) write_file_atomic(json_out, report.dump(2) + "\n");
  return 0;
}
