#include "hwnas/nn/batch_norm.h"

#include <torch/torch.h>

#include "hwnas/core/error.h"

namespace hwnas::nn {

int recalibrate_batch_norm(torch::nn::Module& module, const std::function<void()>& forward_batches) {
  HWNAS_CHECK_T(ConfigError, static_cast<bool>(forward_batches),
                "recalibrate_batch_norm needs a function that runs the forward passes");
  std::vector<std::pair<torch::nn::BatchNorm2dImpl*, c10::optional<double>>> layers;
  for (const auto& m : module.modules(/*include_self=*/true)) {
    if (auto* bn = dynamic_cast<torch::nn::BatchNorm2dImpl*>(m.get())) {
      if (!bn->options.track_running_stats()) continue;
      layers.emplace_back(bn, bn->options.momentum());
      bn->reset_running_stats();
      bn->options.momentum(c10::nullopt);  // cumulative moving average over the batches
    }
  }
  const bool was_training = module.is_training();
  module.train(true);
  try {
    torch::NoGradGuard no_grad;
    forward_batches();
  } catch (...) {
    for (auto& [bn, momentum] : layers) bn->options.momentum(momentum);
    module.train(was_training);
    throw;
  }
  for (auto& [bn, momentum] : layers) bn->options.momentum(momentum);
  module.train(was_training);
  return static_cast<int>(layers.size());
}

}  // namespace hwnas::nn
