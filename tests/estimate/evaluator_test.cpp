#include <catch2/catch.hpp>

#include <cmath>

#include <torch/torch.h>

#include "hwnas/core/arch_table.h"
#include "hwnas/core/io.h"
#include "hwnas/core/search_space.h"
#include "hwnas/data/synthetic.h"
#include "hwnas/estimate/evaluator.h"
#include "hwnas/estimate/factory.h"
#include "hwnas/estimate/inherited.h"
#include "hwnas/predictors/predictor.h"
#include "hwnas/estimate/short_training.h"
#include "hwnas/nn/supernet.h"
#include "hwnas/search_spaces/registry.h"
#include "test_util.h"

using namespace hwnas;
using estimate::Metrics;

namespace {
const nlohmann::json kTiny = {{"channels", 4}, {"cells_per_stage", 1}, {"input_size", 16}, {"input_channels", 3}};

data::Dataset tiny_data(int64_t n, uint64_t seed) {
  return data::make_synthetic(data::SyntheticOptions().samples(n).seed(seed).size(16).channels(3));
}
}  // namespace

TEST_CASE("Tabular evaluator replays a table, counts queries, refuses unknown archs", "[estimate][tabular]") {
  auto space = make_space("nb201");
  const auto dir = test::temp_dir("tabular");
  Rng rng(3);
  std::vector<Arch> archs;
  for (int i = 0; i < 5; ++i) archs.push_back(space->sample(rng));
  write_arch_table_csv(dir + "/t.csv", {"acc", "lat_ms"}, archs, {{0.9, 1}, {0.8, 2}, {0.7, 3}, {0.6, 4}, {0.5, 5}});
  estimate::TabularEvaluator table(*space, dir + "/t.csv");
  REQUIRE(table.metrics() == std::vector<std::string>{"acc", "lat_ms"});
  const auto m = table.evaluate({archs[2], archs[0]});
  REQUIRE(m[0].at("acc") == 0.7);
  REQUIRE(m[1].at("lat_ms") == 1);
  REQUIRE(table.queries() == 2);
  Arch other;
  do other = space->sample(rng);
  while (table.contains(other));
  REQUIRE_THROWS_WITH_ALL(NotFoundError, table.evaluate({other}), "is not in the table", "t.csv", "fallback");

  // A fallback evaluator fills the gaps.
  struct Constant : estimate::Evaluator {
    std::string name() const override { return "constant"; }
    std::vector<std::string> metrics() const override { return {"acc", "lat_ms"}; }
    std::vector<Metrics> do_evaluate(const std::vector<Arch>& a) override { return std::vector<Metrics>(a.size(), {{"acc", -1}, {"lat_ms", -1}}); }
  };
  estimate::TabularEvaluator with_fallback(*space, dir + "/t.csv",
                                           estimate::TabularOptions().fallback(std::make_shared<Constant>()));
  const auto mixed = with_fallback.evaluate({archs[1], other});
  REQUIRE(mixed[0].at("acc") == 0.8);
  REQUIRE(mixed[1].at("acc") == -1);
  REQUIRE(with_fallback.misses() == 1);

  // JSONL works the same; bad rows name the line.
  write_file_atomic(dir + "/t.jsonl", "{\"arch\": \"" + archs[0].str() + "\", \"acc\": 0.9}\n\n{\"arch\": \"" + archs[1].str() + "\", \"acc\": 0.8}\n");
  REQUIRE(estimate::TabularEvaluator(*space, dir + "/t.jsonl").evaluate({archs[1]})[0].at("acc") == 0.8);
  write_file_atomic(dir + "/dup.csv", "arch,acc\n" + archs[0].str() + ",1\n" + archs[0].str() + ",2\n");
  REQUIRE_THROWS_WITH_ALL(DataError, estimate::TabularEvaluator(*space, dir + "/dup.csv"), "line 3", "already appears on line 2");
  write_file_atomic(dir + "/bad.csv", "arch,acc\n|conv~0|+|x|,1\n");
  REQUIRE_THROWS_WITH_ALL(DataError, estimate::TabularEvaluator(*space, dir + "/bad.csv"), "bad.csv line 2");
  write_file_atomic(dir + "/nan.csv", "arch,acc\n" + archs[0].str() + ",fast\n");
  REQUIRE_THROWS_WITH_ALL(DataError, estimate::TabularEvaluator(*space, dir + "/nan.csv"), "line 2", "'fast' is not a number");
  write_file_atomic(dir + "/noarch.csv", "name,acc\nx,1\n");
  REQUIRE_THROWS_WITH_ALL(DataError, estimate::TabularEvaluator(*space, dir + "/noarch.csv"), "needs an 'arch' column");
}

TEST_CASE("Predictor evaluator reports the predictor's target", "[estimate]") {
  auto space = std::shared_ptr<SearchSpace>(make_space("nb201"));
  Rng rng(1);
  std::vector<Arch> archs;
  std::vector<double> y;
  for (int i = 0; i < 20; ++i) {
    archs.push_back(space->sample(rng));
    y.push_back(archs.back().genes()[0]);
  }
  std::shared_ptr<predictors::Predictor> p = predictors::make_predictor("gp", {{"iterations", 10}});
  p->set_target("acc");
  p->fit(*space, archs, y);
  estimate::PredictorEvaluator ev(space, p);
  REQUIRE(ev.metrics() == std::vector<std::string>{"acc", "acc_std"});
  const auto m = ev.evaluate({archs[0]});
  REQUIRE(m[0].count("acc") == 1);
  REQUIRE(m[0].at("acc_std") > 0);
  // Seen archs (earlier or twice in one batch) come from memory with the same values, and count as queries.
  const auto again = ev.evaluate({archs[1], archs[0], archs[1]});
  REQUIRE(ev.remembered() == 2);
  REQUIRE(ev.queries() == 4);
  REQUIRE(again[1] == m[0]);
  REQUIRE(again[0] == again[2]);
  const auto direct = p->predict(*space, {archs[1]});
  REQUIRE(again[0].at("acc") == Approx(direct.mean[0]).margin(1e-12));
  REQUIRE(again[0].at("acc_std") == Approx(direct.std[0]).margin(1e-12));
}

TEST_CASE("Short training is deterministic and independent of evaluation order", "[estimate][short_training]") {
  auto space = std::shared_ptr<SearchSpace>(make_space("nb201", kTiny));
  const auto train_data = tiny_data(128, 1), valid = tiny_data(64, 2);
  auto options = estimate::ShortTrainingOptions().train(train::TrainOptions().steps(4).batch_size(32)).bn_batches(2).seed(5);
  estimate::ShortTrainingEvaluator a(space, train_data, valid, options), b(space, train_data, valid, options);
  Rng rng(2);
  const auto x = space->sample(rng), y = space->sample(rng);
  const auto ab = a.evaluate({x, y});
  const auto ba = b.evaluate({y, x});
  REQUIRE(ab[0].at("val_accuracy") == ba[1].at("val_accuracy"));
  REQUIRE(ab[0].at("val_loss") == ba[1].at("val_loss"));
  REQUIRE(ab[1].at("train_loss") == ba[0].at("train_loss"));
  REQUIRE(ab[0].at("val_accuracy") >= 0);
  REQUIRE(ab[0].at("val_accuracy") <= 1);
  REQUIRE(a.queries() == 2);
  // The data must fit the space.
  REQUIRE_THROWS_WITH_ALL(ConfigError, estimate::ShortTrainingEvaluator(space, tiny_data(8, 1).slice(0, 8), data::make_synthetic(data::SyntheticOptions().samples(8).size(8).channels(3))),
                          "expects inputs of 3x16x16");
}

TEST_CASE("Inherited weights: evaluating through a supernet equals its extracted, recalibrated model", "[estimate][inherited]") {
  auto space = make_space("nb201", kTiny);
  torch::manual_seed(0);
  auto supernet = space->supernet();
  const auto calib = tiny_data(64, 3), valid = tiny_data(64, 4);
  estimate::InheritedWeightsEvaluator ev(supernet, calib, valid, estimate::InheritedOptions().bn_batches(2).batch_size(32));
  Rng rng(4);
  const auto arch = space->sample(rng);
  const auto m1 = ev.evaluate({arch})[0];
  const auto m2 = ev.evaluate({arch})[0];
  REQUIRE(m1.at("val_loss") == m2.at("val_loss"));  // the supernet itself is not changed
  REQUIRE(std::isfinite(m1.at("val_loss")));
  REQUIRE(m1.at("val_accuracy") >= 0);
}

TEST_CASE("An evaluator's data split follows the run's seed unless split_seed holds it", "[estimate]") {
  const nlohmann::json space_config = {{"channels", 4}, {"cells_per_stage", 1}};
  auto data_of = [&](uint64_t seed, const nlohmann::json& extra) {
    nlohmann::json data = {{"name", "fashion-mnist"}, {"train_size", 50}, {"valid_size", 30}};
    data.update(extra);
    auto setup = estimate::make_evaluator({{"name", "short_training"}, {"data", data}}, "nb201", space_config, seed);
    return std::make_pair(setup.train.images, setup.valid.images);
  };
  const auto [train1, valid1] = data_of(1, {{"split_seed", 7}});
  const auto [train2, valid2] = data_of(2, {{"split_seed", 7}});
  CHECK(torch::equal(train1, train2));
  CHECK(torch::equal(valid1, valid2));
  const auto [train3, valid3] = data_of(2, nlohmann::json::object());
  CHECK_FALSE(torch::equal(train1, train3));
  REQUIRE_THROWS_WITH_ALL(ConfigError, data_of(1, {{"split_seed", -1}}), "split_seed");
}
