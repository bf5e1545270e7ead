#pragma once
// Optimizer state (SGD momentum, Adam moments and step, each group's learning rate) saved
// by parameter position. LibTorch's own Optimizer::save keys the state by the address of
// each parameter's TensorImpl, which differs from process to process, so two identical
// runs would write different checkpoint bytes.
#include <string>

#include <torch/torch.h>

#include "core/archive.h"

namespace hwnas::train::detail {

/// Puts the state into `archive` under `prefix` ("optimizer/").
void save_optimizer(const torch::optim::Optimizer& optimizer, hwnas::detail::TensorArchive& archive,
                    const std::string& prefix);
/// Restores what save_optimizer wrote into an optimizer over the same parameters (same
/// groups, order and shapes); throws DataError naming `path` otherwise.
void load_optimizer(torch::optim::Optimizer& optimizer, const hwnas::detail::TensorArchive& archive,
                    const std::string& prefix, const std::string& path);

}  // namespace hwnas::train::detail
