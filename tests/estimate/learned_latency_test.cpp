#include <catch2/catch.hpp>

#include "hwnas/estimate/learned_latency.h"
#include "hwnas/cost/profiler.h"
#include "hwnas/search_spaces/registry.h"
#include "test_util.h"

TEST_CASE("A learned latency model captures what a table cannot add up", "[cost][learned]") {
  auto space = std::shared_ptr<hwnas::SearchSpace>(hwnas::make_space("nb201", {{"channels", 4}, {"cells_per_stage", 1}, {"input_size", 16}}));
  const auto fast = hwnas::cost::TimingOptions().warmup(1).min_runs(2).max_runs(3).min_seconds(0);
  auto table = std::make_shared<hwnas::cost::LatencyTable>(hwnas::cost::profile_space(*space, hwnas::cost::ProfileOptions().timing(fast)));
  auto model = std::make_shared<hwnas::cost::LatencyModel>(table, space);
  // A device that runs a cell 30% slower whenever its first edge is a 3x3 convolution and
  // its last a 1x1 one (say, a fusion that fails): no per-layer table or per-kind scale
  // can express this interaction.
  auto device = [&](const hwnas::Arch& a) {
    return model->predict(a) * (a.genes()[0] == 3 && a.genes()[5] == 2 ? 1.3 : 1.0);
  };
  std::vector<hwnas::cost::Measurement> train, test;
  hwnas::Rng rng(5);
  for (int i = 0; i < 300; ++i) {
    auto a = space->sample(rng);
    (i < 200 ? train : test).push_back({a, device(a)});
  }
  std::vector<hwnas::Arch> test_archs;
  for (const auto& m : test) test_archs.push_back(m.arch);
  const auto table_only = hwnas::cost::evaluate_table(*model, test);
  hwnas::estimate::LearnedLatencyModel learned(space, hwnas::predictors::make_predictor("xgboost", {{"rounds", 200}, {"max_depth", 3}}), model);
  learned.fit(train);
  REQUIRE(learned.predictor().target() == "latency_ratio_to:" + model->name());
  const auto with_learned = hwnas::cost::evaluate_predictions(learned.predict(test_archs), test);
  INFO("table MAPE " << table_only.mape << ", learned MAPE " << with_learned.mape);
  REQUIRE(with_learned.mape < table_only.mape / 4);
  REQUIRE(with_learned.within5 > 0.95);
  // Alone (no table) it learns the latency itself.
  hwnas::estimate::LearnedLatencyModel alone(space, hwnas::predictors::make_predictor("ridge"));
  alone.fit(train);
  REQUIRE_FALSE(alone.has_table());
  REQUIRE(alone.predict(test_archs[0]) > 0);
  std::vector<hwnas::cost::Measurement> bad{{test_archs[0], -1.0}, {test_archs[1], 1.0}, {test_archs[2], 1.0}};
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, learned.fit(bad), "Measurement 0", "must be positive");
}
