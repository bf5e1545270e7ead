#include <catch2/catch.hpp>

#include <torch/torch.h>

#include "hwnas/core/search_space.h"
#include "hwnas/cost/analytic.h"
#include "hwnas/cost/op_counter.h"
#include "hwnas/nn/network.h"
#include "hwnas/search_spaces/registry.h"
#include "test_util.h"

TEST_CASE("count_ops counts the MACs LibTorch executes", "[cost][op_counter]") {
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(4, 8, 3).padding(1).groups(2));
  torch::nn::Linear fc(16, 3);
  auto count = hwnas::cost::count_ops([&] {
    conv->forward(torch::randn({1, 4, 5, 5}));
    fc->forward(torch::randn({2, 16}));
  });
  REQUIRE(count.convs == 1);
  REQUIRE(count.conv_macs == 8 * 25 * (4 / 2) * 9);
  REQUIRE(count.linears == 1);
  REQUIRE(count.linear_macs == 2 * 3 * 16);
  // No counting outside the call.
  auto none = hwnas::cost::count_ops([] {});
  REQUIRE(none.macs() == 0);
}

TEST_CASE("Analytic MACs equal the executed MACs for every built-in space", "[cost][op_counter]") {
  const std::vector<std::pair<const char*, nlohmann::json>> cases = {
      {"nb201", {}},
      {"darts", {{"channels", 8}, {"layers", 5}, {"auxiliary", false}}},
      {"mobilenet", {{"preset", "proxyless"}, {"input_size", 96}}},
      {"mobilenet", {{"preset", "fbnet"}, {"input_size", 96}}},
      {"ofa", {{"resolutions", {128, 164}}}},
  };
  for (const auto& [name, config] : cases) {
    auto space = hwnas::make_space(name, config);
    hwnas::Rng rng(9);
    for (int i = 0; i < 3; ++i) {
      auto arch = space->sample(rng);
      INFO(name << " " << arch.str());
      auto in = space->input_shape_of(arch);
      auto net = space->build(arch);
      net->eval();
      torch::NoGradGuard g;
      auto executed = hwnas::cost::count_ops([&] { net->forward(torch::randn({1, in.c, in.h, in.w})); });
      REQUIRE(executed.macs() == hwnas::cost::network_cost(space->layers(arch)).macs);
    }
  }
}

TEST_CASE("Peak activation memory scales with batch and dtype", "[cost][analytic]") {
  auto space = hwnas::make_space("mobilenet", {{"preset", "mobilenetv2"}});
  hwnas::Rng rng(0);
  auto cost = hwnas::cost::network_cost(space->layers(space->sample(rng)));
  REQUIRE(cost.peak_activations > 0);
  // The stem alone holds 3x224x224 in and 32x112x112 out.
  REQUIRE(cost.peak_activations >= 3 * 224 * 224 + 32 * 112 * 112);
  REQUIRE(cost.peak_activation_bytes(8, 4) == cost.peak_activations * 32);
  REQUIRE(cost.peak_activation_bytes(1, 2) == cost.peak_activations * 2);
}
