#pragma once
// nn::Network: what SearchSpace::build returns, a plain LibTorch module with one forward.
#include <cstdint>

#include <torch/nn/module.h>
#include <torch/types.h>

namespace hwnas::nn {

class Network : public torch::nn::Module {
 public:
  using torch::nn::Module::Module;
  /// Logits for a batch of inputs (N x C x H x W).
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
  /// Logits of the auxiliary head computed by the last forward in training mode;
  /// undefined for networks without one (e.g. DARTS networks built with auxiliary=false).
  virtual torch::Tensor auxiliary_logits() const { return {}; }
};

/// Number of scalar parameters (trainable or not; buffers excluded).
int64_t count_parameters(const torch::nn::Module& module);

}  // namespace hwnas::nn
