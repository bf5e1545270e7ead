#include <catch2/catch.hpp>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "hwnas/core/search_space.h"
#include "hwnas/nn/mixed.h"
#include "hwnas/search_spaces/registry.h"
#include "test_util.h"

using hwnas::nn::MixedChoice;
using hwnas::nn::MixedSupernet;

namespace {
const nlohmann::json kNb201 = {{"channels", 8}, {"cells_per_stage", 1}, {"input_size", 16}};
const nlohmann::json kMobile = {{"preset", "proxyless"}, {"input_size", 32}, {"num_classes", 10}};

std::shared_ptr<MixedSupernet> mixed(const hwnas::SearchSpace& space) {
  torch::manual_seed(0);
  auto net = std::dynamic_pointer_cast<MixedSupernet>(space.supernet());
  REQUIRE(net);
  return net;
}

torch::Tensor input(const hwnas::SearchSpace& space, int64_t n = 4) {
  const auto s = space.input_shape();
  return torch::randn({n, s.c, s.h, s.w});
}
}  // namespace

TEST_CASE("a mixture with one-hot weights equals the single path", "[nn][mixed]") {
  for (const auto& [name, config] : {std::pair{"nb201", kNb201}, std::pair{"mobilenet", kMobile}}) {
    INFO(name);
    auto space = hwnas::make_space(name, config);
    auto net = mixed(*space);
    net->eval();
    const auto allowed = net->allowed();
    hwnas::Rng rng(3);
    for (int trial = 0; trial < 3; ++trial) {
      const auto arch = space->sample(rng);
      std::vector<MixedChoice> path(allowed.size());
      for (size_t c = 0; c < path.size(); ++c) {
        for (size_t k = 0; k < allowed[c].size(); ++k)
          if (allowed[c][k]) path[c].active.push_back(static_cast<int>(k));
        path[c].weights = torch::zeros({static_cast<int64_t>(allowed[c].size())});
        path[c].weights[arch.genes()[c]] = 1.0;
      }
      torch::NoGradGuard no_grad;
      auto x = input(*space);
      auto single = net->forward(x, arch);
      auto mix = net->forward_mixed(x, path);
      CHECK((single - mix).abs().max().item<double>() < 1e-5);
    }
  }
}

TEST_CASE("the architecture gradient of a mixture matches finite differences", "[nn][mixed]") {
  auto space = hwnas::make_space("nb201", {{"channels", 4}, {"cells_per_stage", 1}, {"input_size", 8}});
  auto net = mixed(*space);
  net->to(torch::kFloat64);
  net->eval();  // fixed BN statistics: the loss is a smooth function of the alphas
  auto x = torch::randn({3, 3, 8, 8}, torch::kFloat64);
  auto y = torch::tensor({1, 4, 7});
  std::vector<torch::Tensor> alphas;
  for (size_t c = 0; c < 6; ++c) alphas.push_back(torch::randn({5}, torch::kFloat64).requires_grad_());
  auto loss_of = [&](const std::vector<torch::Tensor>& a) {
    std::vector<MixedChoice> path(a.size());
    for (size_t c = 0; c < a.size(); ++c) path[c] = {{0, 1, 2, 3, 4}, torch::softmax(a[c], 0)};
    return torch::nn::functional::cross_entropy(net->forward_mixed(x, path), y);
  };
  auto grads = torch::autograd::grad({loss_of(alphas)}, alphas);
  const double h = 1e-5;
  double worst = 0;
  for (size_t c = 0; c < alphas.size(); ++c) {
    for (int64_t k = 0; k < 5; ++k) {
      torch::NoGradGuard no_grad;
      auto plus = alphas, minus = alphas;
      plus[c] = alphas[c].detach().clone();
      plus[c][k] += h;
      minus[c] = alphas[c].detach().clone();
      minus[c][k] -= h;
      const double fd = (loss_of(plus).item<double>() - loss_of(minus).item<double>()) / (2 * h);
      worst = std::max(worst, std::abs(fd - grads[c][k].item<double>()));
    }
  }
  CHECK(grads[0].abs().sum().item<double>() > 1e-4);  // the alphas do matter
  CHECK(worst < 1e-7);
}

TEST_CASE("Gumbel-softmax samples follow their distribution", "[nn][mixed]") {
  auto gen = at::detail::createCPUGenerator(11);
  const auto p = torch::tensor({0.1, 0.2, 0.3, 0.4});
  const auto logits = torch::log(p).to(torch::kFloat32);
  auto counts = torch::zeros({4}, torch::kFloat64);
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    auto hard = hwnas::nn::gumbel_softmax(logits, 1.0, true, gen);
    REQUIRE(hard.sum().item<double>() == Approx(1.0));
    REQUIRE(hard.max().item<double>() == Approx(1.0));
    counts += hard.detach().to(torch::kFloat64);
  }
  // Standard error of a frequency near 0.4 over 20,000 draws: 0.0035; allow 4 of them.
  CHECK((counts / n - p).abs().max().item<double>() < 0.014);
  // Low temperature: soft samples approach one-hot; high: uniform.
  auto cold = hwnas::nn::gumbel_softmax(logits, 0.01, false, gen);
  CHECK(cold.max().item<double>() > 0.99);
  auto hot = hwnas::nn::gumbel_softmax(logits, 1000.0, false, gen);
  CHECK((hot - 0.25).abs().max().item<double>() < 0.01);
  // A disallowed option (-inf) is never drawn, and the straight-through sample has a gradient.
  auto masked = torch::tensor({0.0f, -std::numeric_limits<float>::infinity(), 0.0f}).requires_grad_();
  for (int i = 0; i < 200; ++i) REQUIRE(hwnas::nn::gumbel_softmax(masked, 1.0, true, gen)[1].item<double>() == 0.0);
  auto s = hwnas::nn::gumbel_softmax(masked, 1.0, true, gen);
  auto g = torch::autograd::grad({(s * torch::tensor({1.0f, 2.0f, 3.0f})).sum()}, {masked});
  CHECK(g[0].abs().sum().item<double>() > 0);
}

TEST_CASE("partial channel edges: shapes and channel shuffle", "[nn][mixed]") {
  // Shuffle with K groups: output channel i is input channel (i % K) * (C / K) + i / K.
  auto x = torch::arange(12, torch::kFloat32).view({1, 12, 1, 1});
  auto s = hwnas::nn::channel_shuffle(x, 3).flatten();
  for (int64_t i = 0; i < 12; ++i) CHECK(s[i].item<int64_t>() == (i % 3) * 4 + i / 3);
  CHECK(hwnas::nn::channel_shuffle(x, 1).equal(x));

  auto space = hwnas::make_space("nb201", kNb201);
  auto net = mixed(*space);
  REQUIRE(net->supports_partial_channels());
  std::vector<MixedChoice> path(6);
  for (auto& c : path) c = {{0, 1, 2, 3, 4}, torch::softmax(torch::randn({5}), 0)};
  auto in = input(*space, 2);
  CHECK(net->forward_mixed(in, path, 4).sizes() == std::vector<int64_t>{2, 10});
  CHECK(net->forward_mixed(in, path, 8).sizes() == std::vector<int64_t>{2, 10});
  // With K = 1 the partial and the full edge agree.
  {
    torch::NoGradGuard no_grad;
    net->eval();
    CHECK(net->forward_mixed(in, path, 1).equal(net->forward_mixed(in, path)));
  }
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, net->forward_mixed(in, path, 3), "partial_channels 3",
                          "does not divide", "8 channels");
  auto mobile = hwnas::make_space("mobilenet", kMobile);
  auto mnet = mixed(*mobile);
  CHECK_FALSE(mnet->supports_partial_channels());
  std::vector<MixedChoice> mpath(mobile->choices().size(), MixedChoice{{0}, {}});
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, mnet->forward_mixed(input(*mobile, 2), mpath, 2),
                          "does not support partial channels");
  // A wrong path is refused with the decision named.
  mpath.pop_back();
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, mnet->forward_mixed(input(*mobile, 2), mpath), "one entry per decision");
  // An option the supernet does not allow (a skip where the block changes shape).
  mpath.push_back(MixedChoice{{0}, {}});
  const auto allowed = mnet->allowed();
  bool found = false;
  for (size_t c = 0; c < allowed.size() && !found; ++c)
    for (size_t k = 0; k < allowed[c].size() && !found; ++k)
      if (!allowed[c][k]) {
        found = true;
        mpath[c].active = {static_cast<int>(k)};
        REQUIRE_THROWS_WITH_ALL(hwnas::InvalidArchError, mnet->forward_mixed(input(*mobile, 2), mpath),
                                mobile->choices()[c].name, "cannot take option", mobile->choices()[c].options[k]);
      }
  CHECK(found);
}
