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

TEST_CASE("A learned latency model file round-trips with its device and provenance, and refuses what does not fit",
          "[cost][learned]") {
  using hwnas::estimate::LearnedLatencyModel;
  auto space = std::shared_ptr<hwnas::SearchSpace>(hwnas::make_space("nb201"));
  auto other = std::shared_ptr<hwnas::SearchSpace>(hwnas::make_space("darts"));
  hwnas::cost::LatencyTable t;
  t.device.name = "dev";
  t.space = "nb201";
  t.overhead_ms = 0.5;
  t.source = {{"kit", "abc123"}};
  for (const auto& l : space->layer_universe()) {
    hwnas::cost::LatencyEntry e;
    e.mean_ms = 0.01 + 1e-3 * static_cast<double>(l.key().size() % 5);
    e.count = 1;
    t.set("", l.key(), e);
  }
  auto table = std::make_shared<hwnas::cost::LatencyModel>(std::make_shared<hwnas::cost::LatencyTable>(t), space);
  std::vector<hwnas::cost::Measurement> ms;
  hwnas::Rng rng(3);
  for (int i = 0; i < 30; ++i) {
    auto a = space->sample(rng);
    ms.push_back({a, 1.0 + a.genes()[0] + 0.5 * a.genes()[3]});
  }
  LearnedLatencyModel model(space, hwnas::predictors::make_predictor("ridge"), table);
  model.fit(ms);
  REQUIRE(model.source().archs == 30);
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, model.to_json(), "no device name", "set_device");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, model.set_device("a@b"), "'a@b'", "without '@'");
  model.set_device("dev-learned");
  model.set_table_file("dev.json");
  model.set_source({"runs.csv", "abc123", 0, {{"mape", 1.5}}});
  const auto doc = model.to_json();
  CHECK(doc["format"] == "hwnas-learned-latency");
  CHECK(doc["version"] == 1);
  CHECK(doc["table"]["name"] == "latency@dev");
  CHECK(doc["table"]["file"] == "dev.json");
  CHECK(doc["table"]["source"]["kit"] == "abc123");
  CHECK(doc["source"]["measurements"] == "runs.csv");
  REQUIRE(LearnedLatencyModel::table_needed(doc, "m.json") == "latency@dev");

  const auto back = LearnedLatencyModel::from_json(doc, "m.json", space, table);
  CHECK(back.device() == "dev-learned");
  CHECK(back.source().kit == "abc123");
  CHECK(back.source().held_out["mape"] == 1.5);
  CHECK(back.to_json() == doc);
  for (size_t i = 0; i < 5; ++i) CHECK(back.predict(ms[i].arch) == Approx(model.predict(ms[i].arch)));

  // What does not fit is named.
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, LearnedLatencyModel::from_json(doc, "m.json", space), "m.json",
                          "latency@dev", "give that table");
  hwnas::cost::LatencyTable t2 = t;
  t2.device.name = "elsewhere";
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError,
                          LearnedLatencyModel::from_json(doc, "m.json", space, std::make_shared<hwnas::cost::LatencyModel>(
                                                             std::make_shared<hwnas::cost::LatencyTable>(t2), space)),
                          "latency@elsewhere", "give that table");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, LearnedLatencyModel::from_json(doc, "m.json", other, table), "m.json");
  auto edited = doc;
  edited["version"] = 2;
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, LearnedLatencyModel::table_needed(edited, "m.json"), "version 2", "upgrade hwnas");
  edited = doc;
  edited["table"] = nullptr;
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, LearnedLatencyModel::from_json(edited, "m.json", space), "disagrees with \"table\"");
  edited = doc;
  edited.erase("device");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, LearnedLatencyModel::table_needed(edited, "m.json"), "missing field \"device\"");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, LearnedLatencyModel::table_needed({{"format", "x"}}, "m.json"),
                          "not an hwnas learned latency model");

  // Without a table it learns the latency itself; a bare predictor file of an earlier hwnas still loads.
  LearnedLatencyModel alone(space, hwnas::predictors::make_predictor("ridge"));
  alone.fit(ms);
  alone.set_device("csv-device");
  const auto alone_doc = alone.to_json();
  CHECK(alone_doc["table"].is_null());
  REQUIRE(LearnedLatencyModel::table_needed(alone_doc, "a.json").empty());
  CHECK(LearnedLatencyModel::from_json(alone_doc, "a.json", space).predict(ms[0].arch) == Approx(alone.predict(ms[0].arch)));
  const auto bare = alone.predictor().to_json();
  REQUIRE(LearnedLatencyModel::table_needed(bare, "p.json").empty());
  CHECK(LearnedLatencyModel::from_json(bare, "p.json", space).device().empty());
}
