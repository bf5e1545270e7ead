// How each differentiable method puts the architecture into the supernet's forward pass.
#include <algorithm>

#include "oneshot/differentiable_detail.h"

namespace hwnas::oneshot::detail {

std::vector<nn::MixedChoice> SearchState::mixture(bool detach) const {
  std::vector<nn::MixedChoice> path(alphas.size());
  for (size_t c = 0; c < alphas.size(); ++c) {
    path[c].active = allowed[c];
    auto w = probs(c);
    if (auto e = edge_weight(c); e.defined()) w = w * e;
    path[c].weights = detach ? w.detach() : w;
  }
  return path;
}

namespace {

// DARTS and PC-DARTS: the softmax(alpha) mixture of every allowed option.
class MixturePaths : public PathSampler {
 public:
  std::vector<nn::MixedChoice> weight_path(SearchState& s) override { return s.mixture(true); }
  std::vector<nn::MixedChoice> arch_path(SearchState& s) override { return s.mixture(false); }
};

// GDAS (hard: one op, straight-through) and FBNet (soft): Gumbel-softmax at temperature tau.
class GumbelPaths : public PathSampler {
 public:
  explicit GumbelPaths(bool hard) : hard_(hard) {}
  std::vector<nn::MixedChoice> weight_path(SearchState& s) override { return draw(s, true); }
  std::vector<nn::MixedChoice> arch_path(SearchState& s) override { return draw(s, false); }

 private:
  std::vector<nn::MixedChoice> draw(SearchState& s, bool detach) const {
    std::vector<nn::MixedChoice> path(s.alphas.size());
    for (size_t c = 0; c < s.alphas.size(); ++c) {
      path[c].weights = nn::gumbel_softmax(s.masked(c), s.tau, hard_, s.gen);
      if (hard_)
        path[c].active = {static_cast<int>(path[c].weights.detach().argmax().item<int64_t>())};
      else
        path[c].active = s.allowed[c];
      if (detach) path[c].weights = path[c].weights.detach();
    }
    return path;
  }
  bool hard_;
};

// ProxylessNAS: a weight step runs one option per decision drawn from softmax(alpha),
// weight 1; an arch step two candidates drawn per decision, one of them active by softmax
// over the pair, gradients reaching both through the straight-through gates; after the
// update the pair is shifted so that the unsampled options keep their probabilities.
class BinaryPaths : public PathSampler {
 public:
  std::vector<nn::MixedChoice> weight_path(SearchState& s) override {
    std::vector<nn::MixedChoice> path(s.alphas.size());
    for (size_t c = 0; c < s.alphas.size(); ++c)
      path[c].active = {static_cast<int>(torch::multinomial(s.probs(c).detach(), 1, false, s.gen).item<int64_t>())};
    return path;
  }

  std::vector<nn::MixedChoice> arch_path(SearchState& s) override {
    std::vector<nn::MixedChoice> path(s.alphas.size());
    pairs_.assign(s.alphas.size(), torch::Tensor());
    before_.assign(s.alphas.size(), torch::Tensor());
    for (size_t c = 0; c < s.alphas.size(); ++c) {
      const int64_t n = std::min<int64_t>(2, static_cast<int64_t>(s.allowed[c].size()));
      auto pair = torch::multinomial(s.probs(c).detach(), n, false, s.gen);
      auto sub = torch::softmax(s.alphas[c].index_select(0, pair), 0);
      const auto j = torch::multinomial(sub.detach(), 1, false, s.gen).item<int64_t>();
      auto gate = torch::zeros_like(sub).index_fill(0, torch::tensor({j}), 1.0) - sub.detach() + sub;
      path[c].weights = torch::zeros_like(s.alphas[c]).index_add(0, pair, gate);
      for (int64_t i = 0; i < n; ++i) path[c].active.push_back(static_cast<int>(pair[i].item<int64_t>()));
      pairs_[c] = pair;
      before_[c] = s.alphas[c].detach().index_select(0, pair);
    }
    return path;
  }

  // Keep the unsampled options' probabilities: shift the pair so that its total exp(alpha)
  // is what it was before the update.
  void after_arch_update(SearchState& s) override {
    torch::NoGradGuard no_grad;
    for (size_t c = 0; c < s.alphas.size(); ++c) {
      auto after = s.alphas[c].index_select(0, pairs_[c]);
      auto offset = torch::logsumexp(after, 0) - torch::logsumexp(before_[c], 0);
      s.alphas[c].index_copy_(0, pairs_[c], after - offset);
    }
  }

 private:
  std::vector<torch::Tensor> pairs_, before_;  // per decision, of the last arch path
};

}  // namespace

std::unique_ptr<PathSampler> make_path_sampler(Method method) {
  switch (method) {
    case Method::kDarts:
    case Method::kPcDarts: return std::make_unique<MixturePaths>();
    case Method::kGdas: return std::make_unique<GumbelPaths>(true);
    case Method::kFbnet: return std::make_unique<GumbelPaths>(false);
    case Method::kProxyless: return std::make_unique<BinaryPaths>();
  }
  return nullptr;
}

}  // namespace hwnas::oneshot::detail
