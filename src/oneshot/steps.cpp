// The bilevel steps: SGD on the supernet's weights, Adam on the architecture parameters
// (first order, or DARTS' second order through the unrolled weight step).
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "oneshot/detail.h"
#include "oneshot/differentiable_detail.h"

namespace hwnas::oneshot::detail {

void SearchState::check_finite(double loss, const char* what, int64_t step) const {
  if (std::isfinite(loss)) return;
  throw Error(fmt::format(
      "The search diverged: the {} loss is {} at epoch {} step {}. {} Lower weight_lr (now {}) or arch_lr (now {}), "
      "or raise grad_clip",
      what, loss, epoch + 1, step, last_checkpoint(o.checkpoint(), epoch), o.weight_lr(), o.arch_lr()));
}

// Gradients reset to undefined, not zero: weights of options a step did not run get no
// update (no decay, no momentum), the same in a resumed run as in an uninterrupted one.
void SearchState::clear_grads() {
  for (auto& w : weights) w.mutable_grad().reset();
}

std::pair<double, double> SearchState::weight_step(const data::Batch& b, int64_t step) {
  net->train();
  clear_grads();
  auto logits = net->forward_mixed(b.images, paths->weight_path(*this), partial);
  auto loss = cross_entropy(logits, b.labels);
  const double l = loss.item<double>();
  check_finite(l, "weight", step);
  loss.backward();
  if (o.grad_clip() > 0) torch::nn::utils::clip_grad_norm_(weights, o.grad_clip());
  wopt->step();
  return {l, accuracy(logits, b.labels)};
}

// d(loss)/d(arch_params), zeros where a parameter is unused.
std::vector<torch::Tensor> SearchState::arch_grads(const torch::Tensor& loss) {
  auto g = torch::autograd::grad({loss}, arch_params, {}, /*retain_graph=*/false, /*create_graph=*/false,
                                 /*allow_unused=*/true);
  for (size_t c = 0; c < g.size(); ++c)
    if (!g[c].defined()) g[c] = torch::zeros_like(arch_params[c]);
  return g;
}

// DARTS' second-order gradient: the alphas' gradient of the validation loss at the
// weights after one virtual SGD step, minus xi times the finite-difference
// Hessian-vector product of the training loss.
std::vector<torch::Tensor> SearchState::unrolled_grads(const data::Batch& train, const data::Batch& valid,
                                                       int64_t step) {
  std::vector<torch::Tensor> backup;
  for (const auto& w : weights) backup.push_back(w.detach().clone());
  const double xi = lr;
  auto train_loss = [&] { return cross_entropy(net->forward_mixed(train.images, mixture(false), partial), train.labels); };
  {  // w' = w - xi * (dL_train/dw + wd * w)
    auto g = torch::autograd::grad({train_loss()}, weights, {}, false, false, true);
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < weights.size(); ++i)
      if (g[i].defined()) weights[i].sub_(xi * (g[i] + o.weight_decay() * weights[i]));
  }
  auto logits = net->forward_mixed(valid.images, mixture(false), partial);
  auto loss = arch_objective(cross_entropy(logits, valid.labels));
  check_finite(loss.item<double>(), "architecture", step);
  std::vector<torch::Tensor> inputs = arch_params;
  inputs.insert(inputs.end(), weights.begin(), weights.end());
  auto g = torch::autograd::grad({loss}, inputs, {}, false, false, true);
  const auto na = static_cast<std::ptrdiff_t>(arch_params.size());
  std::vector<torch::Tensor> da(g.begin(), g.begin() + na);
  std::vector<torch::Tensor> dw(g.begin() + na, g.end());
  double norm2 = 0;
  for (auto& v : dw)
    if (v.defined()) norm2 += v.pow(2).sum().item<double>();
  const double eps = 0.01 / std::max(std::sqrt(norm2), 1e-12);
  auto shifted = [&](double sign) {
    {
      torch::NoGradGuard no_grad;
      for (size_t i = 0; i < weights.size(); ++i) {
        weights[i].copy_(backup[i]);
        if (dw[i].defined()) weights[i].add_(sign * eps * dw[i]);
      }
    }
    return arch_grads(train_loss());
  };
  auto plus = shifted(+1), minus = shifted(-1);
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < weights.size(); ++i) weights[i].copy_(backup[i]);
  }
  for (size_t c = 0; c < da.size(); ++c) {
    if (!da[c].defined()) da[c] = torch::zeros_like(arch_params[c]);
    da[c] = da[c] - xi * (plus[c] - minus[c]) / (2 * eps);
  }
  return da;
}

std::pair<double, double> SearchState::arch_step(const data::Batch& train, const data::Batch& valid, int64_t step) {
  net->train();
  std::vector<torch::Tensor> grads;
  double l = 0, acc = 0;
  if (o.order() == 2) {  // darts and pcdarts only (DifferentiableOptions::validate)
    grads = unrolled_grads(train, valid, step);
    torch::NoGradGuard no_grad;
    auto logits = net->forward_mixed(valid.images, mixture(true), partial);
    l = cross_entropy(logits, valid.labels).item<double>();
    acc = accuracy(logits, valid.labels);
  } else {
    auto logits = net->forward_mixed(valid.images, paths->arch_path(*this), partial);
    auto ce = cross_entropy(logits, valid.labels);
    l = ce.item<double>();
    acc = accuracy(logits, valid.labels);
    auto loss = arch_objective(ce);
    check_finite(loss.item<double>(), "architecture", step);
    grads = arch_grads(loss);
  }
  for (size_t c = 0; c < arch_params.size(); ++c) arch_params[c].mutable_grad() = grads[c];
  aopt->step();
  paths->after_arch_update(*this);
  for (auto& a : arch_params) a.mutable_grad().reset();
  return {l, acc};
}

void SearchState::make_optimizers() {
  wopt = std::make_unique<torch::optim::SGD>(
      weights, torch::optim::SGDOptions(o.weight_lr()).momentum(o.momentum()).weight_decay(o.weight_decay()));
  aopt = std::make_unique<torch::optim::Adam>(
      arch_params, torch::optim::AdamOptions(o.arch_lr()).betas({0.5, 0.999}).weight_decay(o.arch_weight_decay()));
}

}  // namespace hwnas::oneshot::detail
