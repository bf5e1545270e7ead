#include "hwnas/estimate/proxies.h"

#include <optional>

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <Eigen/Dense>
#include <fmt/format.h>

#include "hwnas/core/error.h"
#include "hwnas/cost/analytic.h"
#include "hwnas/estimate/short_training.h"
#include "hwnas/nn/network.h"

namespace hwnas::estimate {
namespace {

// A convolution or linear layer: its weight (>= 2 dims) and bias (may be undefined).
struct Prunable {
  torch::Tensor weight, bias;
};

std::vector<Prunable> prunable_layers(nn::Network& net) {
  std::vector<Prunable> out;
  const auto params = net.named_parameters(/*recurse=*/true);
  for (const auto& p : params) {
    const auto& name = p.key();
    if (p.value().dim() < 2 || name.size() < 7 || name.compare(name.size() - 7, 7, ".weight") != 0) continue;
    const auto bias_name = name.substr(0, name.size() - 7) + ".bias";
    const auto* bias = params.find(bias_name);
    out.push_back({p.value(), bias ? *bias : torch::Tensor()});
  }
  return out;
}

torch::Tensor loss_of(nn::Network& net, const data::Batch& b) {
  return torch::nn::functional::cross_entropy(net.forward(b.images), b.labels);
}

// Sum over layers of a per-layer score computed from the weight and its gradient.
double sum_over_layers(const std::vector<Prunable>& layers,
                       const std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&)>& f) {
  double s = 0;
  for (const auto& l : layers) {
    const auto g = l.weight.grad();
    if (!g.defined()) continue;  // unused weight (e.g. an op on a zeroed edge)
    s += f(l.weight.detach(), g).sum().item<double>();
  }
  return s;
}

double grad_norm(nn::Network& net, const data::Batch& b) {
  net.train();
  net.zero_grad();
  loss_of(net, b).backward();
  return sum_over_layers(prunable_layers(net), [](const auto&, const auto& g) { return g.norm(); });
}

double snip(nn::Network& net, const data::Batch& b) {
  net.train();
  net.zero_grad();
  loss_of(net, b).backward();
  return sum_over_layers(prunable_layers(net), [](const auto& w, const auto& g) { return (w * g).abs(); });
}

// GraSP: -theta * (H g), with g the loss gradient and H g by double backpropagation.
double grasp(nn::Network& net, const data::Batch& b) {
  net.train();
  net.zero_grad();
  const auto layers = prunable_layers(net);
  std::vector<torch::Tensor> weights;
  for (const auto& l : layers) weights.push_back(l.weight);
  auto g = torch::autograd::grad({loss_of(net, b)}, weights, {}, false, false, /*allow_unused=*/true);
  auto gf = torch::autograd::grad({loss_of(net, b)}, weights, {}, true, /*create_graph=*/true, true);
  torch::Tensor z = torch::zeros({}, torch::kFloat);
  for (size_t i = 0; i < weights.size(); ++i)
    if (g[i].defined() && gf[i].defined()) z = z + (g[i].detach() * gf[i]).sum();
  if (!z.requires_grad()) return 0;
  z.backward();
  return sum_over_layers(layers, [](const auto& w, const auto& hg) { return -w * hg; });
}

// Fisher (per output channel k of each layer, Theis et al.): 1/2 mean_n (sum_hw z * dL/dz)^2,
// with z the layer's output. z is linear in the layer's weight and bias, so
// sum_hw z_nk dL/dz_nk = <W_k, dL_n/dW_k> + b_k dL_n/db_k with L_n the loss's sample-n
// term: computed exactly from per-sample gradients. As in Abdelfattah et al., each
// channel's value counts once per weight of that channel (weight.numel / channels).
double fisher(nn::Network& net, const data::Batch& b) {
  net.train();
  const auto layers = prunable_layers(net);
  const int64_t n = b.images.size(0);
  std::vector<torch::Tensor> params;
  for (const auto& l : layers) {
    params.push_back(l.weight);
    if (l.bias.defined()) params.push_back(l.bias);
  }
  std::vector<torch::Tensor> acc(layers.size());
  // The batch's loss is the mean of per-sample losses: sample n contributes loss_n / N.
  auto logits = net.forward(b.images);
  auto losses = torch::nn::functional::cross_entropy(
                    logits, b.labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone)) /
                static_cast<double>(n);
  for (int64_t s = 0; s < n; ++s) {
    auto grads = torch::autograd::grad({losses[s]}, params, {}, /*retain_graph=*/true, false, true);
    size_t gi = 0;
    for (size_t i = 0; i < layers.size(); ++i) {
      const auto& gw = grads[gi++];
      torch::Tensor gb = layers[i].bias.defined() ? grads[gi++] : torch::Tensor();
      const int64_t ch = layers[i].weight.size(0);
      torch::Tensor g_nk = torch::zeros({ch});
      if (gw.defined()) g_nk = g_nk + (layers[i].weight.detach() * gw).reshape({ch, -1}).sum(1);
      if (gb.defined()) g_nk = g_nk + layers[i].bias.detach() * gb;
      const auto sq = g_nk.pow(2);
      acc[i] = acc[i].defined() ? acc[i] + sq : sq;
    }
  }
  double total = 0;
  for (size_t i = 0; i < layers.size(); ++i) {
    const double per_channel_weights = static_cast<double>(layers[i].weight.numel() / layers[i].weight.size(0));
    total += (0.5 * acc[i] / static_cast<double>(n)).sum().item<double>() * per_channel_weights;
  }
  return total;
}

// NASWOT v1 (Mellor et al. 2021, as in Abdelfattah et al.): J = d sum(outputs) / d input
// per sample; with the eigenvalues v of corrcoef(J), -sum(log(v + k) + 1 / (v + k)), k = 1e-5.
double jacob_cov(nn::Network& net, const data::Batch& b) {
  net.train();
  net.zero_grad();
  auto x = b.images.clone().set_requires_grad(true);
  auto y = net.forward(x);
  y.backward(torch::ones_like(y));
  // An output that does not depend on the input (e.g. every path through a cell is
  // 'none') has a zero Jacobian: the correlation is undefined.
  if (!x.grad().defined()) return std::nan("");
  const auto j = x.grad().reshape({x.size(0), -1}).to(torch::kDouble).contiguous();
  const int64_t n = j.size(0), d = j.size(1);
  Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> J(j.data_ptr<double>(), n, d);
  const Eigen::MatrixXd centred = J.colwise() - J.rowwise().mean();
  const Eigen::MatrixXd cov = centred * centred.transpose();
  const Eigen::VectorXd sd = cov.diagonal().cwiseSqrt();
  if ((sd.array() <= 0).any()) return std::nan("");  // a constant row: correlation undefined
  const Eigen::MatrixXd corr = cov.array() / (sd * sd.transpose()).array();
  const Eigen::VectorXd v = Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(corr, Eigen::EigenvaluesOnly).eigenvalues();
  const double k = 1e-5;
  return -((v.array() + k).log() + 1.0 / (v.array() + k)).sum();
}

// SynFlow: |theta * d R / d theta| with R the sum of the output of the network with
// |theta| on an all-ones input of one sample, in double precision. BatchNorm is left
// out, as in Abdelfattah et al.: at initialisation in eval mode it is the identity
// (running mean 0, variance 1, weight 1, bias 0) up to its epsilon.
double synflow(nn::Network& net, const data::Batch& b) {
  {
    torch::NoGradGuard no_grad;
    for (auto& p : net.parameters()) p.abs_();
    for (auto& buf : net.buffers())
      if (buf.is_floating_point()) buf.abs_();
  }
  net.to(torch::kDouble);
  net.eval();
  net.zero_grad();
  auto in = torch::ones({1, b.images.size(1), b.images.size(2), b.images.size(3)}, torch::kDouble);
  net.forward(in).sum().backward();
  return sum_over_layers(prunable_layers(net), [](const auto& w, const auto& g) { return (w * g).abs(); });
}

}  // namespace

const std::vector<std::string>& proxy_names() {
  static const std::vector<std::string> names{"synflow", "grad_norm", "snip", "grasp", "fisher", "jacob_cov",
                                              "params", "macs"};
  return names;
}

double compute_proxy(const std::string& name, const std::function<std::shared_ptr<nn::Network>()>& make_net,
                     const data::Batch& batch) {
  using Fn = double (*)(nn::Network&, const data::Batch&);
  static const std::map<std::string, Fn> fns{{"synflow", synflow}, {"grad_norm", grad_norm}, {"snip", snip},
                                             {"grasp", grasp},     {"fisher", fisher},       {"jacob_cov", jacob_cov}};
  const auto it = fns.find(name);
  HWNAS_CHECK_T(NotFoundError, it != fns.end(), "Unknown zero-cost proxy '", name, "'; valid: synflow, grad_norm, snip, grasp, fisher, jacob_cov",
                (name == "params" || name == "macs") ? " (params and macs come from the analytic cost model)" : "");
  auto net = make_net();
  return it->second(*net, batch);
}

ProxyEvaluator::ProxyEvaluator(std::shared_ptr<const SearchSpace> space, data::Batch batch, ProxyOptions options)
    : space_(std::move(space)), batch_(std::move(batch)), options_(std::move(options)) {
  HWNAS_CHECK_T(ConfigError, !options_.proxies().empty(), "ProxyEvaluator: no proxies selected");
  for (const auto& p : options_.proxies())
    HWNAS_CHECK_T(NotFoundError, std::find(proxy_names().begin(), proxy_names().end(), p) != proxy_names().end(),
                  "Unknown zero-cost proxy '", p, "'; valid: ", fmt::format("{}", fmt::join(proxy_names(), ", ")));
  HWNAS_CHECK_T(ConfigError, batch_.images.defined() && batch_.images.dim() == 4 && batch_.images.size(0) >= 2,
                "ProxyEvaluator needs a minibatch of at least 2 images (N x C x H x W)");
}

std::vector<Metrics> ProxyEvaluator::do_evaluate(const std::vector<Arch>& archs) {
  std::vector<Metrics> out;
  for (const auto& arch : archs) {
    Metrics m;
    const auto make = [&] {
      const uint64_t seed = arch_seed(options_.seed(), arch);
      torch::manual_seed(seed);  // proxies that draw random inputs
      return space_->build(arch, BuildOptions().seed(seed));
    };
    std::optional<cost::NetworkCost> c;  // computed once, if params or macs are asked
    for (const auto& p : options_.proxies()) {
      if (p == "params" || p == "macs") {
        if (!c) c = cost::network_cost(space_->layers(arch));
        m[p] = static_cast<double>(p == "params" ? c->params : c->macs);
      } else {
        m[p] = compute_proxy(p, make, batch_);
      }
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace hwnas::estimate
