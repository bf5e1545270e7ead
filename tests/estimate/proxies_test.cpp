#include <catch2/catch.hpp>

#include <cmath>

#include <torch/torch.h>

#include "hwnas/core/search_space.h"
#include "hwnas/data/synthetic.h"
#include "hwnas/estimate/proxies.h"
#include "hwnas/nn/network.h"
#include "hwnas/search_spaces/registry.h"
#include "test_util.h"

using namespace hwnas;

namespace {

// conv(3x3, no bias) -> ReLU -> global pool -> linear(with bias): small enough to compute
// every proxy's definition by hand with autograd.
struct TinyNet : nn::Network {
  torch::nn::Conv2d conv{nullptr};
  torch::nn::Linear fc{nullptr};
  TinyNet() {
    conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(2, 4, 3).padding(1).bias(false)));
    fc = register_module("fc", torch::nn::Linear(4, 3));
  }
  torch::Tensor z_conv, z_fc;  // outputs of the two layers, kept for the reference computation
  torch::Tensor forward(const torch::Tensor& x) override {
    z_conv = conv(x);
    z_fc = fc(torch::relu(z_conv).mean({2, 3}));
    return z_fc;
  }
};

std::shared_ptr<nn::Network> make_tiny() {
  torch::manual_seed(11);
  return std::make_shared<TinyNet>();
}

data::Batch batch() {
  torch::manual_seed(12);
  return {torch::randn({6, 2, 5, 5}), torch::tensor(std::vector<int64_t>{0, 1, 2, 0, 1, 2})};
}

}  // namespace

TEST_CASE("Proxies follow their published definitions on a tiny network", "[estimate][proxies]") {
  const auto b = batch();
  // Reference gradients of the mean cross-entropy.
  auto net = std::static_pointer_cast<TinyNet>(make_tiny());
  auto loss = torch::nn::functional::cross_entropy(net->forward(b.images), b.labels);
  loss.backward();
  const auto gc = net->conv->weight.grad(), gf = net->fc->weight.grad();
  const auto wc = net->conv->weight.detach(), wf = net->fc->weight.detach();

  const double grad_norm = gc.norm().item<double>() + gf.norm().item<double>();
  REQUIRE(estimate::compute_proxy("grad_norm", make_tiny, b) == Approx(grad_norm).epsilon(1e-5));
  const double snip = (wc * gc).abs().sum().item<double>() + (wf * gf).abs().sum().item<double>();
  REQUIRE(estimate::compute_proxy("snip", make_tiny, b) == Approx(snip).epsilon(1e-5));

  // Fisher from the layer outputs directly: 1/2 mean_n (sum_hw z dL/dz)^2 per channel,
  // times the weights per channel.
  net = std::static_pointer_cast<TinyNet>(make_tiny());
  net->forward(b.images);
  net->z_conv.retain_grad();
  net->z_fc.retain_grad();
  torch::nn::functional::cross_entropy(net->z_fc, b.labels).backward();
  auto fisher_of = [](const torch::Tensor& z, const torch::Tensor& g, int64_t per_channel) {
    auto g_nk = z.dim() > 2 ? (z * g).sum({2, 3}) : z * g;
    return (0.5 * g_nk.pow(2).mean(0)).sum().item<double>() * static_cast<double>(per_channel);
  };
  const double fisher = fisher_of(net->z_conv.detach(), net->z_conv.grad(), 2 * 3 * 3) +
                        fisher_of(net->z_fc.detach(), net->z_fc.grad(), 4);
  REQUIRE(estimate::compute_proxy("fisher", make_tiny, b) == Approx(fisher).epsilon(1e-4));

  // GraSP: -theta . (H g), H g by double backpropagation.
  net = std::static_pointer_cast<TinyNet>(make_tiny());
  std::vector<torch::Tensor> ws{net->conv->weight, net->fc->weight};
  auto g = torch::autograd::grad({torch::nn::functional::cross_entropy(net->forward(b.images), b.labels)}, ws);
  auto gg = torch::autograd::grad({torch::nn::functional::cross_entropy(net->forward(b.images), b.labels)}, ws, {}, true, true);
  ((g[0].detach() * gg[0]).sum() + (g[1].detach() * gg[1]).sum()).backward();
  const double grasp = -(net->conv->weight.detach() * net->conv->weight.grad()).sum().item<double>() -
                       (net->fc->weight.detach() * net->fc->weight.grad()).sum().item<double>();
  REQUIRE(estimate::compute_proxy("grasp", make_tiny, b) == Approx(grasp).epsilon(1e-4));

  // SynFlow: |theta| everywhere, all-ones input, R = sum of outputs; sum |theta * dR/dtheta|.
  net = std::static_pointer_cast<TinyNet>(make_tiny());
  {
    torch::NoGradGuard ng;
    for (auto& p : net->parameters()) p.abs_();
  }
  net->to(torch::kDouble);
  net->forward(torch::ones({1, 2, 5, 5}, torch::kDouble)).sum().backward();
  const double synflow = (net->conv->weight * net->conv->weight.grad()).abs().sum().item<double>() +
                         (net->fc->weight * net->fc->weight.grad()).abs().sum().item<double>();
  REQUIRE(estimate::compute_proxy("synflow", make_tiny, b) == Approx(synflow).epsilon(1e-9));

  const double jc = estimate::compute_proxy("jacob_cov", make_tiny, b);
  REQUIRE(std::isfinite(jc));
  REQUIRE(estimate::compute_proxy("jacob_cov", make_tiny, b) == jc);
  REQUIRE_THROWS_WITH_ALL(NotFoundError, estimate::compute_proxy("zen", make_tiny, b), "Unknown zero-cost proxy 'zen'", "synflow");
}

TEST_CASE("Proxy evaluator: every proxy on every arch of a small space, deterministic", "[estimate][proxies]") {
  auto space = std::shared_ptr<SearchSpace>(make_space("nb201", {{"channels", 4}, {"cells_per_stage", 1}, {"input_size", 16}, {"input_channels", 1}}));
  auto d = data::make_synthetic(data::SyntheticOptions().samples(16).size(16));
  data::Batch b{d.images, d.labels};
  estimate::ProxyEvaluator ev(space, b, estimate::ProxyOptions().seed(3));
  Rng rng(5);
  const auto archs = std::vector<Arch>{space->sample(rng), space->sample(rng)};
  const auto m = ev.evaluate(archs);
  const auto again = ev.evaluate(archs);
  for (size_t i = 0; i < archs.size(); ++i)
    for (const auto& name : estimate::proxy_names()) {
      INFO(name);
      REQUIRE(m[i].count(name) == 1);
      REQUIRE(m[i].at(name) == again[i].at(name));
    }
  REQUIRE(m[0].at("synflow") > 0);
  // A cell whose every path is 'none' cuts the input off: the proxies still compute (the
  // weights behind the cut get zero gradients) and jacob_cov, undefined, is NaN.
  const auto cut = ev.evaluate({space->parse("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")})[0];
  REQUIRE(cut.at("grad_norm") == 0);
  REQUIRE(std::isnan(cut.at("jacob_cov")));
  REQUIRE(m[0].at("params") > 0);
  REQUIRE_THROWS_WITH_ALL(NotFoundError, estimate::ProxyEvaluator(space, b, estimate::ProxyOptions().proxies({"zen"})), "'zen'", "jacob_cov");
}
