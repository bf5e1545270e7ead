#include <catch2/catch.hpp>

#include <limits>

#include <torch/torch.h>

#include "hwnas/core/search_space.h"
#include "hwnas/data/synthetic.h"
#include "hwnas/nn/network.h"
#include "hwnas/search_spaces/registry.h"
#include "hwnas/train/trainer.h"
#include "test_util.h"

namespace {
std::shared_ptr<hwnas::nn::Network> tiny_net(const hwnas::Arch& arch, const hwnas::SearchSpace& space) {
  torch::manual_seed(0);
  return space.build(arch);
}
}  // namespace

TEST_CASE("Training lowers the loss and is deterministic with a seed", "[train]") {
  auto data = hwnas::data::make_synthetic(hwnas::data::SyntheticOptions().samples(128).size(8).classes(4).seed(1));
  auto space = hwnas::make_space("nb201", {{"channels", 4}, {"cells_per_stage", 1}, {"input_channels", 1},
                                           {"input_size", 8}, {"num_classes", 4}});
  auto arch = space->parse("|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|");
  auto opts = hwnas::train::TrainOptions().epochs(6).batch_size(32).lr(0.05).seed(3);
  auto net1 = tiny_net(arch, *space);
  auto before = hwnas::train::evaluate(*net1, data);
  int64_t calls = 0;
  auto r1 = hwnas::train::train(*net1, data, hwnas::train::TrainOptions(opts).on_step([&](const auto& s) {
    ++calls;
    REQUIRE(s.total == 24);
  }));
  auto after = hwnas::train::evaluate(*net1, data);
  REQUIRE(r1.steps == 24);
  REQUIRE(calls == 24);
  REQUIRE(after.loss < before.loss);
  REQUIRE(after.accuracy > 0.5);  // 4 classes: chance is 0.25

  auto net2 = tiny_net(arch, *space);
  auto r2 = hwnas::train::train(*net2, data, opts);
  REQUIRE(r1.losses == r2.losses);
}

TEST_CASE("Training refuses impossible options", "[train]") {
  auto data = hwnas::data::make_synthetic(hwnas::data::SyntheticOptions().samples(8).size(8).classes(4));
  auto space = hwnas::make_space("nb201", {{"channels", 2}, {"cells_per_stage", 1}, {"input_channels", 1},
                                           {"input_size", 8}, {"num_classes", 4}});
  hwnas::Rng rng(0);
  auto net = space->build(space->sample(rng));
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError,
                          hwnas::train::train(*net, data, hwnas::train::TrainOptions().steps(0).epochs(0)),
                          "steps or epochs");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, hwnas::train::train(*net, data, hwnas::train::TrainOptions().lr(-1)),
                          "training options", "lr", "is -1");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, hwnas::train::train(*net, data, hwnas::train::TrainOptions().lr(1e30)),
                          "lr", "[1e-08, 100]");
  auto poisoned = data;
  poisoned.images = data.images.clone().fill_(std::numeric_limits<float>::quiet_NaN());
  REQUIRE_THROWS_WITH_ALL(hwnas::Error, hwnas::train::train(*net, poisoned, hwnas::train::TrainOptions().steps(3)),
                          "diverged");
}
