#include <catch2/catch.hpp>

#include <cmath>

#include <nlohmann/json.hpp>

#include "hwnas/core/random.h"
#include "hwnas/core/search_space.h"
#include "hwnas/experiment/replay.h"
#include "hwnas/search_spaces/registry.h"

using namespace hwnas;
using namespace hwnas::experiment;

namespace {

Record record(const Arch& arch, double accuracy, double params, double violation = 0) {
  Record r;
  r.arch = arch;
  r.objectives = {accuracy, params};
  r.violation = violation;
  return r;
}

}  // namespace

TEST_CASE("Replay statistics: one reference point for every seed, spread of best and hypervolume", "[experiment]") {
  const auto config = ExperimentConfig::from_json(
      {{"space", {{"name", "nb201"}}},
       {"strategy", {{"name", "random"}}},
       {"evaluator", {{"name", "tabular"}, {"table", "t.csv"}}},
       {"objectives", {{{"metric", "val_accuracy"}, {"goal", "max"}}, {{"metric", "params"}, {"goal", "min"}}}},
       {"budget", {{"evaluations", 10}}},
       {"seed", 7}});
  const auto space = make_space("nb201");
  Rng rng(1);
  const auto a = space->sample(rng), b = space->sample(rng), c = space->sample(rng);
  RunResult r1, r2, r3;
  r1.evaluations = r2.evaluations = r3.evaluations = 10;
  r1.feasible_found = r2.feasible_found = true;
  r1.front = {record(a, 0.9, 3), record(b, 0.8, 1)};
  r1.best = r1.front[0];
  r2.front = {record(c, 0.7, 2)};
  r2.best = r2.front[0];
  r3.front = {record(c, 0.95, 0.5, /*violation=*/1)};  // infeasible: no best, not in the reference point
  const auto s = summarize_replay(config, {r1, r2, r3});
  REQUIRE(s.runs.size() == 3);
  CHECK(s.runs[2].seed == 9);
  CHECK(s.feasible_runs == 2);
  CHECK(s.best_mean == Approx(0.8));
  CHECK(s.best_std == Approx(std::sqrt(0.02)));
  CHECK(s.best_min == Approx(0.7));
  CHECK(s.best_max == Approx(0.9));
  // The worst feasible values over every run: accuracy 0.7 (max), params 3 (min).
  CHECK(s.reference_point == std::vector<double>{0.7, 3});
  CHECK_FALSE(s.reference_given);
  // Run 1: (0.9 - 0.7) x (3 - 3) + (0.8 - 0.7) x (3 - 1) = 0.2; runs 2 and 3 dominate nothing.
  CHECK(s.runs[0].hypervolume == Approx(0.2));
  CHECK(s.runs[1].hypervolume == 0);
  CHECK(s.runs[2].hypervolume == 0);
  CHECK(s.hypervolume_mean == Approx(0.2 / 3));
  const auto j = s.to_json();
  CHECK(j.at("seeds") == 3);
  CHECK(j.at("runs")[0].at("best") == a.str());
  CHECK(j.at("runs")[0].at("best_val_accuracy") == 0.9);
  CHECK_FALSE(j.at("runs")[2].contains("best"));
  // A given reference point is used as it is.
  auto given = config;
  given.reference_point({0.5, 4});
  const auto g = summarize_replay(given, {r1});
  CHECK(g.reference_given);
  CHECK(g.runs[0].hypervolume == Approx(0.4 * 1 + 0.3 * 2));
}
