#pragma once
// BatchNorm statistics recalibration: after short training, or for a path of a
// weight-sharing supernet, the running statistics are stale; re-estimate them on a few
// batches before evaluating.
#include <functional>

#include <torch/nn/module.h>

namespace hwnas::nn {

/// Resets the running mean and variance of every BatchNorm2d in `module`, then calls
/// `forward_batches` (which should run the module's forward on K training batches) in
/// training mode without gradients, averaging the statistics over all those batches
/// (cumulative average, not momentum). Restores each layer's momentum and the module's
/// train/eval mode afterwards. Returns the number of BatchNorm layers recalibrated.
int recalibrate_batch_norm(torch::nn::Module& module, const std::function<void()>& forward_batches);

}  // namespace hwnas::nn
