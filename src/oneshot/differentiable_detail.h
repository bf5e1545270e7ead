#pragma once
// Internals of DifferentiableSearch, one concern per unit:
//   differentiable.cpp    options, set-up, the epoch loop, accessors, checkpoints
//   paths.cpp             how each method puts the architecture into the forward pass
//   steps.cpp             the weight step and the first- or second-order architecture step
//   hardware_loss.cpp     expected latency, the hardware term, the latency-target projection
//   darts_pt.cpp          DARTS-PT's perturbation-based selection
#include <cstdint>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "hwnas/core/arch.h"
#include "hwnas/data/dataset.h"
#include "hwnas/nn/mixed.h"
#include "hwnas/oneshot/differentiable.h"

namespace hwnas::cost {
class LatencyModel;
}

namespace hwnas::oneshot::detail {

enum class Method { kDarts, kPcDarts, kGdas, kFbnet, kProxyless };

torch::Tensor cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels);
double accuracy(const torch::Tensor& logits, const torch::Tensor& labels);
std::vector<double> to_vector(const torch::Tensor& t);

struct SearchState;

/// How a method puts the architecture into the supernet's forward pass (paths.cpp).
class PathSampler {
 public:
  virtual ~PathSampler() = default;
  /// The path of a weight step: its weights are detached from the architecture parameters.
  virtual std::vector<nn::MixedChoice> weight_path(SearchState& s) = 0;
  /// The path of a first-order architecture step: differentiable in the architecture
  /// parameters.
  virtual std::vector<nn::MixedChoice> arch_path(SearchState& s) = 0;
  /// After the optimiser's step on the architecture parameters of an arch step.
  virtual void after_arch_update(SearchState&) {}
};

std::unique_ptr<PathSampler> make_path_sampler(Method method);

/// Everything a differentiable search holds; DifferentiableSearch::Impl is this.
struct SearchState {
  std::shared_ptr<const SearchSpace> space;
  DifferentiableOptions o;
  Method method = Method::kDarts;
  std::unique_ptr<PathSampler> paths;
  int64_t partial = 1;
  std::shared_ptr<nn::MixedSupernet> net;
  std::vector<torch::Tensor> weights;                // the supernet's parameters
  std::vector<torch::Tensor> alphas;                 // per decision, [options]
  std::vector<torch::Tensor> betas;                  // edge normalisation: per node, [inputs]
  std::vector<torch::Tensor> arch_params;            // alphas, then betas
  std::vector<int> group_of, position_of;            // per decision: its beta group and index (-1: none)
  std::vector<torch::Tensor> masks;                  // allowed options (bool)
  std::vector<std::vector<int>> allowed;             // allowed option indices
  std::unique_ptr<torch::optim::SGD> wopt;
  std::unique_ptr<torch::optim::Adam> aopt;
  std::shared_ptr<const cost::LatencyModel> latency;
  std::vector<torch::Tensor> costs;                  // per decision, ms over the reference arch
  double base_ms = 0, fastest_ms = 0;
  int64_t epoch = 0;
  std::vector<EpochReport> reports;
  at::Generator gen = at::detail::createCPUGenerator(0);
  data::Dataset weight_data;  // the weights' half of the last run's data (DARTS-PT tuning)
  double lr = 0, tau = 1;

  torch::Tensor masked(size_t c) const {
    return alphas[c].masked_fill(masks[c].logical_not(), -std::numeric_limits<float>::infinity());
  }
  torch::Tensor probs(size_t c) const { return torch::softmax(masked(c), 0); }
  // PC-DARTS edge normalisation: the weight of decision c among its node's inputs.
  torch::Tensor edge_weight(size_t c) const {
    if (betas.empty() || group_of[c] < 0) return {};
    return torch::softmax(betas[static_cast<size_t>(group_of[c])], 0)[position_of[c]];
  }
  std::vector<double> edge_weights() const;
  std::vector<std::vector<double>> probabilities() const;
  Arch argmax() const { return within_target(net->derive(probabilities(), edge_weights())); }

  // paths.cpp: every allowed option weighted by its probability (and edge weight).
  std::vector<nn::MixedChoice> mixture(bool detach) const;

  // steps.cpp
  void check_finite(double loss, const char* what, int64_t step) const;
  void clear_grads();
  std::pair<double, double> weight_step(const data::Batch& b, int64_t step);
  std::vector<torch::Tensor> arch_grads(const torch::Tensor& loss);
  std::vector<torch::Tensor> unrolled_grads(const data::Batch& train, const data::Batch& valid, int64_t step);
  std::pair<double, double> arch_step(const data::Batch& train, const data::Batch& valid, int64_t step);
  void make_optimizers();

  // hardware_loss.cpp
  torch::Tensor expected_latency() const;
  torch::Tensor arch_objective(const torch::Tensor& ce) const;
  Arch within_target(Arch arch) const;
  bool carries_signal(const Arch& arch) const;
  double table_latency(const Arch& arch) const;
  void setup_latency();
};

}  // namespace hwnas::oneshot::detail

namespace hwnas::oneshot {
struct DifferentiableSearch::Impl : detail::SearchState {};
}  // namespace hwnas::oneshot
