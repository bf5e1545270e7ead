#pragma once
// MixedSupernet: a supernet that also runs a weighted mixture of each decision's options,
// the forward pass of differentiable NAS (DARTS, PC-DARTS, GDAS, FBNet, ProxylessNAS).
//
// A mixed forward takes, per decision, the options to compute and their weights:
//   out = sum over k in active of weights[k] * op_k(x)
// With one active option and undefined weights it is the single path (forward(x, arch)).
// Partial channels (PC-DARTS): only the first C/K channels of an edge's input go through
// the ops (on the first C/K channels of their weights); the rest bypass the edge, and the
// result is channel-shuffled with K groups.
//
// The built-in nb201 and mobilenet spaces' supernets are mixed supernets. A user space
// joins differentiable search by returning a MixedSupernet from do_supernet.
#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "hwnas/core/search_space.h"
#include "hwnas/nn/supernet.h"

namespace hwnas::nn {

/// The weighting of one decision's options in a mixed forward.
struct MixedChoice {
  /// Options computed (indices into the decision's options); non-empty, no repeats.
  std::vector<int> active;
  /// One weight per option of the decision (1-d, differentiable); only the active entries
  /// are used. Undefined: every active option has weight 1.
  torch::Tensor weights;
};

class MixedSupernet : public Supernet {
 public:
  /// The mixture's decisions. Default: the space's choices. A space whose archs are not one
  /// option per mixed edge (DARTS: two (op, input) pairs per node out of every edge into
  /// it) lists its edges here and overrides derive().
  virtual std::vector<Choice> decisions() const;
  /// True when decisions() are the space's choices (what the hardware loss needs).
  bool decisions_are_choices() const;
  /// The arch for per-decision option probabilities (disallowed options 0) and per-decision
  /// edge weights (1 without edge normalisation). Default: the most probable option of
  /// every decision.
  virtual Arch derive(const std::vector<std::vector<double>>& probabilities,
                      const std::vector<double>& edge_weights) const;
  /// Groups of decisions that compete as the inputs of one node, for PC-DARTS' edge
  /// normalisation. Default: none.
  virtual std::vector<std::vector<int>> edge_groups() const { return {}; }

  /// Output of the mixture; `path` has one entry per decision.
  /// Throws ConfigError if partial_channels > 1 and !supports_partial_channels().
  torch::Tensor forward_mixed(const torch::Tensor& x, const std::vector<MixedChoice>& path,
                              int64_t partial_channels = 1);
  /// True if forward_mixed accepts partial_channels > 1.
  virtual bool supports_partial_channels() const { return false; }
  /// allowed()[c][k]: option k of decision c may be chosen (e.g. "skip" only where the
  /// block keeps its shape). Default: every option is allowed.
  virtual std::vector<std::vector<bool>> allowed() const;

 protected:
  virtual torch::Tensor do_forward_mixed(const torch::Tensor& x, const std::vector<MixedChoice>& path,
                                         int64_t partial_channels) = 0;
  /// The single path as a mixture of one option per decision (when the decisions are the
  /// space's choices; otherwise override).
  torch::Tensor do_forward(const torch::Tensor& x, const std::vector<int>& genes) override;
};

/// sum over path.active of weight * op(k); `op` computes option k's output.
template <typename OpFn>
torch::Tensor mix(const MixedChoice& choice, OpFn&& op) {
  torch::Tensor sum;
  for (int k : choice.active) {
    torch::Tensor y = op(k);
    if (!y.defined()) continue;  // the "none" op contributes nothing
    if (choice.weights.defined()) y = y * choice.weights[k];
    sum = sum.defined() ? sum + y : y;
  }
  return sum;
}

/// A Gumbel-softmax sample of softmax(logits) at temperature `tau`: softmax((logits + g) /
/// tau) with g ~ Gumbel(0, 1) (entries of -inf stay 0). `hard`: the one-hot of its argmax
/// with the soft sample's gradient (straight-through), as GDAS; soft: the sample, as FBNet.
torch::Tensor gumbel_softmax(const torch::Tensor& logits, double tau, bool hard, at::Generator& generator);

/// PC-DARTS channel shuffle: N x C x H x W viewed as N x groups x C/groups x H x W,
/// transposed to N x C/groups x groups x H x W, flattened back.
torch::Tensor channel_shuffle(const torch::Tensor& x, int64_t groups);

}  // namespace hwnas::nn
