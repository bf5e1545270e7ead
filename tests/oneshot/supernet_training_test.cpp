#include <catch2/catch.hpp>

#include <atomic>

#include <torch/torch.h>

#include "hwnas/core/search_space.h"
#include "hwnas/cost/analytic.h"
#include "hwnas/data/synthetic.h"
#include "hwnas/estimate/factory.h"
#include "hwnas/nn/supernet.h"
#include "hwnas/oneshot/supernet_training.h"
#include "hwnas/search_spaces/registry.h"
#include "test_util.h"

using namespace hwnas;
using oneshot::SupernetTrainer;
using oneshot::SupernetTrainOptions;

namespace {
data::Dataset tiny_data(int64_t channels = 1, int64_t size = 16) {
  return data::make_synthetic(data::SyntheticOptions().samples(128).size(size).channels(channels).seed(3));
}

SupernetTrainOptions quick(const std::string& rule) {
  return SupernetTrainOptions().rule(rule).epochs(1).steps_per_epoch(2).batch_size(8);
}

std::vector<torch::Tensor> weights(const SupernetTrainer& t) {
  std::vector<torch::Tensor> out;
  for (const auto& p : t.supernet()->parameters()) out.push_back(p.detach().clone());
  return out;
}

bool same(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!a[i].equal(b[i])) return false;
  return true;
}

double macs(const SearchSpace& space, const Arch& a) { return static_cast<double>(cost::network_cost(space.layers(a)).macs); }
}  // namespace

TEST_CASE("single-path and sandwich training run on every built-in space", "[oneshot][supernet]") {
  const std::vector<std::pair<std::string, nlohmann::json>> cases = {
      {"nb201", {{"channels", 4}, {"cells_per_stage", 1}, {"input_channels", 1}, {"input_size", 16}}},
      {"darts", {{"channels", 4}, {"layers", 3}, {"input_channels", 1}, {"input_size", 16}}},
      {"mobilenet", {{"preset", "fbnet"}, {"input_channels", 1}, {"input_size", 16}, {"num_classes", 10}}},
      {"ofa", {{"num_classes", 10}, {"resolutions", {32}}}}};
  for (const auto& [name, config] : cases) {
    for (const std::string rule : {"uniform", "sandwich"}) {
      DYNAMIC_SECTION(name << " / " << rule) {
        std::shared_ptr<SearchSpace> space(make_space(name, config));
        SupernetTrainer trainer(space, quick(rule));
        CHECK(macs(*space, trainer.largest()) > macs(*space, trainer.smallest()));
        const auto before = weights(trainer);
        const auto r = trainer.run((name == "ofa" ? tiny_data(3, 32) : tiny_data()));
        REQUIRE(r.size() == 1);
        CHECK(std::isfinite(r[0].loss));
        CHECK_FALSE(same(before, weights(trainer)));
      }
    }
  }
}

TEST_CASE("the sandwich's largest and smallest nb201 archs", "[oneshot][supernet]") {
  std::shared_ptr<SearchSpace> space(make_space("nb201", {{"channels", 4}, {"cells_per_stage", 1}}));
  SupernetTrainer trainer(space, quick("sandwich"));
  CHECK(trainer.largest().str() ==
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|");
  CHECK(trainer.smallest().str() == "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|");
}

TEST_CASE("progressive shrinking runs its three phases on the OFA space only", "[oneshot][supernet]") {
  std::shared_ptr<SearchSpace> ofa(make_space("ofa", {{"num_classes", 10}, {"resolutions", {32}}}));
  SupernetTrainer trainer(ofa, quick("sandwich").progressive("ofa").epochs(3).steps_per_epoch(1).random_subnets(1));
  const auto r = trainer.run(tiny_data(3, 32));
  REQUIRE(r.size() == 3);
  CHECK(r[0].phase == 1);
  CHECK(r[1].phase == 2);
  CHECK(r[2].phase == 3);
  std::shared_ptr<SearchSpace> nb201(make_space("nb201"));
  REQUIRE_THROWS_WITH_ALL(ConfigError, SupernetTrainer(nb201, quick("uniform").progressive("ofa")),
                          "Progressive shrinking", "leave \"progressive\" empty");
  REQUIRE_THROWS_WITH_ALL(ConfigError, SupernetTrainOptions::from_json({{"rule", "fair"}}), "fair", "uniform",
                          "sandwich");
  // Options built in C++ get the checks JSON gets.
  REQUIRE_THROWS_WITH_ALL(ConfigError, SupernetTrainer(nb201, quick("uniform").batch_size(0)), "batch_size", "[1, 65536]");
  REQUIRE_THROWS_WITH_ALL(ConfigError, SupernetTrainer(nb201, quick("fair")), "rule", "'fair'", "uniform, sandwich");
  CHECK(SupernetTrainOptions::from_json(quick("sandwich").seed(7).to_json()).to_json() == quick("sandwich").seed(7).to_json());
}

TEST_CASE("supernet training resumes exactly and feeds the inherited evaluator", "[oneshot][supernet]") {
  const auto dir = test::temp_dir("supernet_train");
  std::shared_ptr<SearchSpace> space(
      make_space("nb201", {{"channels", 4}, {"cells_per_stage", 1}, {"input_channels", 1}, {"input_size", 16}}));
  const auto options = quick("sandwich").epochs(2);
  SupernetTrainer whole(space, options);
  whole.run(tiny_data());
  const auto ckpt = dir + "/s.ckpt";
  {
    std::atomic<bool> stop{true};
    SupernetTrainer part(space, SupernetTrainOptions(options).checkpoint(ckpt));
    part.run(tiny_data(), {}, &stop);
    REQUIRE(part.epoch() == 1);
  }
  SupernetTrainer resumed(space, SupernetTrainOptions(options).checkpoint(ckpt));
  resumed.load(ckpt);
  resumed.run(tiny_data());
  CHECK(same(weights(resumed), weights(whole)));
  REQUIRE_THROWS_WITH_ALL(DataError, SupernetTrainer(space, quick("uniform")).load(ckpt), "other options",
                          "kept as it is");

  // The weights file is what {"name": "inherited", "supernet": FILE} loads.
  const auto file = dir + "/supernet.pt";
  whole.save_weights(file);
  auto setup = estimate::make_evaluator(
      {{"name", "inherited"},
       {"supernet", file},
       {"options", {{"bn_batches", 1}, {"batch_size", 16}}},
       {"data", {{"name", "synthetic"}, {"train_size", 64}, {"valid_size", 32}}}},
      "nb201", {{"channels", 4}, {"cells_per_stage", 1}, {"input_size", 16}}, 0);
  const auto m = setup.evaluator->evaluate({whole.largest()});
  REQUIRE(m.size() == 1);
  CHECK(m[0].at("val_accuracy") >= 0.0);

  // A NaN loss names the epoch, the step and the last checkpoint (the resumed run wrote
  // epoch 2 to it).
  auto bad = tiny_data();
  bad.images.fill_(std::numeric_limits<float>::quiet_NaN());
  SupernetTrainer more(space, SupernetTrainOptions(options).epochs(3).checkpoint(ckpt));
  more.load(ckpt);
  REQUIRE_THROWS_WITH_ALL(Error, more.run(bad), "diverged", "epoch 3 step 1", ckpt, "after epoch 2", "Lower lr");
}
