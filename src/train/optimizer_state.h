#pragma once
// Optimizer state (SGD momentum, Adam moments and step, each group's learning rate) saved
// by parameter position. LibTorch's own Optimizer::save keys the state by the address of
// each parameter's TensorImpl, which differs from process to process, so two identical
// runs would write different checkpoint bytes.
#include <torch/torch.h>

namespace hwnas::train::detail {

void save_optimizer(const torch::optim::Optimizer& optimizer, torch::serialize::OutputArchive& archive);
/// Restores what save_optimizer wrote into an optimizer over the same parameters (same
/// groups, order and shapes); throws DataError naming `path` otherwise.
void load_optimizer(torch::optim::Optimizer& optimizer, torch::serialize::InputArchive& archive,
                    const std::string& path);

}  // namespace hwnas::train::detail
