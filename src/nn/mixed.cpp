#include "hwnas/nn/mixed.h"

#include <set>

#include <torch/torch.h>

#include "hwnas/core/error.h"

namespace hwnas::nn {

std::vector<Choice> MixedSupernet::decisions() const { return space().choices(); }

bool MixedSupernet::decisions_are_choices() const {
  const auto mine = decisions();
  const auto& theirs = space().choices();
  if (mine.size() != theirs.size()) return false;
  for (size_t c = 0; c < mine.size(); ++c)
    if (mine[c].name != theirs[c].name || mine[c].options != theirs[c].options) return false;
  return true;
}

Arch MixedSupernet::derive(const std::vector<std::vector<double>>& probabilities,
                           const std::vector<double>& /*edge_weights*/) const {
  HWNAS_CHECK_T(ConfigError, decisions_are_choices(), "The ", space().name(),
                " mixed supernet's decisions are not the space's choices: it must override derive()");
  const auto ok = allowed();
  std::vector<int> genes;
  for (size_t c = 0; c < probabilities.size(); ++c) {
    int best = -1;
    for (size_t k = 0; k < probabilities[c].size(); ++k)
      if (ok[c][k] && (best < 0 || probabilities[c][k] > probabilities[c][static_cast<size_t>(best)])) best = static_cast<int>(k);
    genes.push_back(best);
  }
  return space().make(genes);
}

std::vector<std::vector<bool>> MixedSupernet::allowed() const {
  std::vector<std::vector<bool>> out;
  for (const auto& c : decisions()) out.emplace_back(c.options.size(), true);
  return out;
}

torch::Tensor MixedSupernet::forward_mixed(const torch::Tensor& x, const std::vector<MixedChoice>& path,
                                           int64_t partial_channels) {
  const auto choices = decisions();
  HWNAS_CHECK_T(ConfigError, path.size() == choices.size(), "A mixed path of space ", space().name(),
                " needs one entry per decision (", choices.size(), "), but got ", path.size());
  HWNAS_CHECK_T(ConfigError, partial_channels >= 1, "partial_channels must be >= 1, got ", partial_channels);
  HWNAS_CHECK_T(ConfigError, partial_channels == 1 || supports_partial_channels(), "The ", space().name(),
                " supernet does not support partial channels (PC-DARTS); use partial_channels 1");
  const auto ok = allowed();
  for (size_t c = 0; c < path.size(); ++c) {
    const auto n = static_cast<int>(choices[c].options.size());
    HWNAS_CHECK_T(ConfigError, !path[c].active.empty(), "Decision ", choices[c].name, " has no active option");
    std::set<int> seen;
    for (int k : path[c].active) {
      HWNAS_CHECK_T(ConfigError, k >= 0 && k < n && seen.insert(k).second, "Decision ", choices[c].name,
                    ": active option ", k, " is out of range [0, ", n, ") or repeated");
      HWNAS_CHECK_T(InvalidArchError, ok[c][static_cast<size_t>(k)], "Decision ", choices[c].name,
                    " cannot take option '", choices[c].options[static_cast<size_t>(k)], "' in the ", space().name(),
                    " supernet (e.g. it would change a block's shape)");
    }
    HWNAS_CHECK_T(ConfigError, !path[c].weights.defined() || path[c].weights.numel() == n, "Decision ",
                  choices[c].name, ": expected ", n, " weights, got ", path[c].weights.numel());
  }
  return do_forward_mixed(x, path, partial_channels);
}

torch::Tensor MixedSupernet::do_forward(const torch::Tensor& x, const std::vector<int>& genes) {
  std::vector<MixedChoice> path(genes.size());
  for (size_t c = 0; c < genes.size(); ++c) path[c].active = {genes[c]};
  return do_forward_mixed(x, path, 1);
}

torch::Tensor gumbel_softmax(const torch::Tensor& logits, double tau, bool hard, at::Generator& generator) {
  HWNAS_CHECK_T(ConfigError, tau > 0, "The Gumbel-softmax temperature must be positive, got ", tau);
  auto u = torch::rand(logits.sizes(), generator, logits.options().requires_grad(false)).clamp(1e-10, 1.0 - 1e-7);
  auto y = torch::softmax((logits - torch::log(-torch::log(u))) / tau, -1);
  if (!hard) return y;
  auto one = torch::zeros_like(y).scatter_(-1, y.argmax(-1, /*keepdim=*/true), 1.0);
  return one - y.detach() + y;
}

torch::Tensor channel_shuffle(const torch::Tensor& x, int64_t groups) {
  if (groups == 1) return x;
  const auto n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  HWNAS_CHECK_T(ConfigError, c % groups == 0, "channel_shuffle: ", c, " channels do not split into ", groups,
                " groups");
  return x.view({n, groups, c / groups, h, w}).transpose(1, 2).contiguous().view({n, c, h, w});
}

}  // namespace hwnas::nn
