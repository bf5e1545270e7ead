#include <catch2/catch.hpp>

#include <torch/torch.h>

#include "hwnas/nn/batch_norm.h"
#include "test_util.h"

TEST_CASE("BatchNorm recalibration computes the exact statistics of the given batches", "[nn][batch_norm]") {
  torch::manual_seed(0);
  torch::nn::Sequential net(torch::nn::Conv2d(torch::nn::Conv2dOptions(2, 3, 1).bias(false)),
                            torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(3).momentum(0.1)));
  std::vector<torch::Tensor> batches{torch::randn({8, 2, 4, 4}) * 3 + 1, torch::randn({8, 2, 4, 4})};
  net->eval();
  const int n = hwnas::nn::recalibrate_batch_norm(*net, [&] {
    for (const auto& b : batches) net->forward(b);
  });
  REQUIRE(n == 1);
  REQUIRE_FALSE(net->is_training());  // mode restored
  auto bn = net[1]->as<torch::nn::BatchNorm2d>();
  // Cumulative average over the two equal-sized batches of each batch's statistics.
  torch::NoGradGuard g;
  auto conv = net[0]->as<torch::nn::Conv2d>();
  auto m0 = conv->forward(batches[0]).mean({0, 2, 3}), m1 = conv->forward(batches[1]).mean({0, 2, 3});
  auto v0 = conv->forward(batches[0]).var({0, 2, 3}, /*unbiased=*/true);
  auto v1 = conv->forward(batches[1]).var({0, 2, 3}, /*unbiased=*/true);
  REQUIRE(torch::allclose(bn->running_mean, (m0 + m1) / 2, 1e-5, 1e-5));
  REQUIRE(torch::allclose(bn->running_var, (v0 + v1) / 2, 1e-5, 1e-5));
  REQUIRE(bn->options.momentum().value() == Approx(0.1));  // momentum restored
}
