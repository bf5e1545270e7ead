#include <catch2/catch.hpp>

#include <torch/torch.h>

#include "hwnas/core/search_space.h"
#include "hwnas/nn/batch_norm.h"
#include "hwnas/nn/network.h"
#include "hwnas/nn/supernet.h"
#include "hwnas/search_spaces/registry.h"
#include "test_util.h"

namespace {
struct Case {
  const char* space;
  nlohmann::json config;
};
// Small configurations of every built-in space, so the test stays fast.
const Case kCases[] = {
    {"nb201", {{"channels", 4}, {"cells_per_stage", 1}, {"input_size", 16}}},
    {"darts", {{"channels", 4}, {"layers", 3}, {"input_size", 16}}},
    {"mobilenet", {{"preset", "proxyless"}, {"input_size", 32}, {"num_classes", 10}}},
    {"mobilenet", {{"preset", "fbnet"}, {"input_size", 32}, {"num_classes", 10}}},
    {"ofa", {{"num_classes", 10}, {"resolutions", {32, 40}}}},
};
}  // namespace

TEST_CASE("Standalone models extracted from a supernet equal its single path", "[nn][supernet]") {
  for (const auto& c : kCases) {
    auto space = hwnas::make_space(c.space, c.config);
    INFO(c.space << " " << c.config.dump());
    torch::manual_seed(0);
    auto supernet = space->supernet();
    hwnas::Rng rng(7);
    // Train-mode passes on random paths give every BatchNorm non-trivial statistics.
    {
      torch::NoGradGuard g;
      supernet->train();
      for (int i = 0; i < 4; ++i) {
        auto arch = space->sample(rng);
        auto in = space->input_shape_of(arch);
        supernet->forward(torch::randn({4, in.c, in.h, in.w}) * 2 + 0.5, arch);
      }
    }
    supernet->eval();
    for (int i = 0; i < 4; ++i) {
      auto arch = space->sample(rng);
      INFO(arch.str());
      auto in = space->input_shape_of(arch);
      auto x = torch::randn({3, in.c, in.h, in.w});
      auto net = supernet->extract(arch);
      REQUIRE_FALSE(net->is_training());
      torch::NoGradGuard g;
      auto expected = supernet->forward(x, arch);
      auto got = net->forward(x);
      REQUIRE(got.sizes() == expected.sizes());
      REQUIRE(torch::allclose(got, expected, 1e-5, 1e-5));
      REQUIRE(hwnas::nn::count_parameters(*net) == hwnas::nn::count_parameters(*space->build(arch)));
    }
  }
}

TEST_CASE("Supernets share weights across archs and train through a single path", "[nn][supernet]") {
  auto space = hwnas::make_space("ofa", {{"num_classes", 10}, {"resolutions", {32}}});
  torch::manual_seed(1);
  auto supernet = space->supernet();
  hwnas::Rng rng(1);
  auto arch = space->sample(rng);
  auto loss = supernet->forward(torch::randn({2, 3, 32, 32}), arch).pow(2).mean();
  loss.backward();
  int64_t with_grad = 0, total = 0;
  for (const auto& p : supernet->parameters()) {
    ++total;
    with_grad += p.grad().defined() && p.grad().abs().sum().item<double>() > 0 ? 1 : 0;
  }
  // Only the sampled path's weights get gradients, and they are a strict subset.
  REQUIRE(with_grad > 0);
  REQUIRE(with_grad < total);
  // Sharing: a supernet is far smaller than the sum of its archs; OFA's largest arch
  // holds every weight of the supernet.
  auto largest = nlohmann::json{{"ks", std::vector<int>(20, 7)}, {"e", std::vector<int>(20, 6)},
                                {"d", {4, 4, 4, 4, 4}}, {"r", {32}}};
  REQUIRE(hwnas::nn::count_parameters(*supernet) == hwnas::nn::count_parameters(*space->build(space->from_json(largest))));
}

TEST_CASE("BatchNorm recalibration of a supernet path matches its extracted model", "[nn][supernet][batch_norm]") {
  auto space = hwnas::make_space("nb201", {{"channels", 4}, {"cells_per_stage", 1}, {"input_size", 8}});
  torch::manual_seed(2);
  auto supernet = space->supernet();
  hwnas::Rng rng(2);
  auto arch = space->sample(rng);
  std::vector<torch::Tensor> batches{torch::randn({8, 3, 8, 8}) + 1, torch::randn({8, 3, 8, 8}) * 2};
  supernet->eval();
  const int n = hwnas::nn::recalibrate_batch_norm(*supernet, [&] {
    for (const auto& b : batches) supernet->forward(b, arch);
  });
  REQUIRE(n > 0);
  REQUIRE_FALSE(supernet->is_training());
  auto net = supernet->extract(arch);
  auto x = torch::randn({2, 3, 8, 8});
  torch::NoGradGuard g;
  REQUIRE(torch::allclose(net->forward(x), supernet->forward(x, arch), 1e-5, 1e-5));
}

TEST_CASE("A supernet refuses archs of another space", "[nn][supernet]") {
  auto nb201 = hwnas::make_space("nb201", {{"channels", 2}, {"cells_per_stage", 1}});
  auto darts = hwnas::make_space("darts", {{"channels", 2}, {"layers", 3}});
  auto supernet = nb201->supernet();
  hwnas::Rng rng(0);
  REQUIRE_THROWS_WITH_ALL(hwnas::InvalidArchError, supernet->forward(torch::randn({1, 3, 32, 32}), darts->sample(rng)),
                          "space 'nb201'", "'darts'");
}
