// The final arch of a differentiable search: argmax, or DARTS-PT (Wang et al. 2021),
// perturbation-based selection.
#include <algorithm>
#include <limits>
#include <numeric>

#include "hwnas/core/error.h"
#include "hwnas/core/random.h"
#include "oneshot/detail.h"
#include "oneshot/differentiable_detail.h"

namespace hwnas::oneshot {

Arch DifferentiableSearch::select(const data::Dataset& valid) {
  auto& m = *impl_;
  if (m.o.selection() == "argmax") return m.argmax();
  // DARTS-PT: decisions in a seeded random order; each takes the option whose removal
  // from the mixture lowers validation accuracy the most, then stays fixed.
  HWNAS_CHECK_T(ConfigError, valid.size() > 0, "DARTS-PT selection needs validation data");
  const auto vb = data::batches(valid, m.o.batch_size());
  const size_t nb = std::min<size_t>(vb.size(), static_cast<size_t>(m.o.pt_batches()));
  std::vector<int> fixed(m.alphas.size(), -1);
  auto path_with = [&](size_t skip_c, int skip_k) {
    auto path = m.mixture(true);
    for (size_t c = 0; c < path.size(); ++c) {
      if (fixed[c] >= 0) {
        path[c].active = {fixed[c]};
        path[c].weights = torch::Tensor();
      } else if (c == skip_c) {
        auto& act = path[c].active;
        act.erase(std::find(act.begin(), act.end(), skip_k));
        auto w = path[c].weights.clone();
        w[skip_k] = 0;
        path[c].weights = w * (path[c].weights.sum() / w.sum());  // keeps an edge weight
      }
    }
    return path;
  };
  auto val_accuracy = [&](const std::vector<nn::MixedChoice>& path) {
    torch::NoGradGuard no_grad;
    m.net->train();  // batch statistics: the running ones belong to the unperturbed mixture
    double correct = 0, n = 0;
    for (size_t i = 0; i < nb; ++i) {
      auto logits = m.net->forward_mixed(vb[i].images, path, m.partial);
      correct += logits.argmax(1).eq(vb[i].labels).sum().item<double>();
      n += static_cast<double>(vb[i].labels.size(0));
    }
    return correct / n;
  };
  std::vector<size_t> order(m.alphas.size());
  std::iota(order.begin(), order.end(), 0);
  Rng rng(detail::mix_seed(m.o.seed(), 77));
  rng.shuffle(order);
  Rng tune_rng(detail::mix_seed(m.o.seed(), 78));
  for (size_t c : order) {
    if (m.allowed[c].size() == 1) {
      fixed[c] = m.allowed[c].front();
      continue;
    }
    double worst = std::numeric_limits<double>::infinity();
    for (int k : m.allowed[c]) {
      const double acc = val_accuracy(path_with(c, k));
      if (acc < worst) {
        worst = acc;
        fixed[c] = k;
      }
    }
    if (m.o.pt_tune_steps() > 0 && m.weight_data.size() > 0) {
      auto tb = data::batches(m.weight_data, m.o.batch_size(), &tune_rng);
      for (int64_t s = 0; s < m.o.pt_tune_steps(); ++s) {
        const auto& b = tb[static_cast<size_t>(s) % tb.size()];
        m.net->train();
        m.clear_grads();
        auto loss = detail::cross_entropy(m.net->forward_mixed(b.images, path_with(m.alphas.size(), -1), m.partial),
                                          b.labels);
        m.check_finite(loss.item<double>(), "DARTS-PT tuning", s + 1);
        loss.backward();
        if (m.o.grad_clip() > 0) torch::nn::utils::clip_grad_norm_(m.weights, m.o.grad_clip());
        m.wopt->step();
      }
    }
  }
  // The arch from the fixed options, each with its original probability as its strength
  // (which ranks a node's inputs in the darts space).
  auto probs = m.probabilities();
  for (size_t c = 0; c < probs.size(); ++c)
    for (size_t k = 0; k < probs[c].size(); ++k)
      if (static_cast<int>(k) != fixed[c]) probs[c][k] = 0;
  return m.within_target(m.net->derive(probs, m.edge_weights()));
}

}  // namespace hwnas::oneshot
