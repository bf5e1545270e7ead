#pragma once
// The checkpoint of train_final (checkpoint.pt in its checkpoint folder): the network, the
// optimizer state and the training state (fingerprint, recipe, finished epochs) in one
// hwnas archive file (core/archive.h).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "hwnas/train/final_training.h"

namespace hwnas::train::detail {

/// Writes the checkpoint; `state`'s timings go to the CHECKPOINT.times.json sidecar.
void save_training_checkpoint(const std::string& path, nn::Network& net, const torch::optim::Optimizer& optimizer,
                              nlohmann::json state);
/// Restores network and optimizer and returns the finished epochs; throws DataError naming
/// the path when the file is damaged or was written for another network or recipe.
std::vector<EpochRecord> load_training_checkpoint(const std::string& path, nn::Network& net,
                                                  torch::optim::Optimizer& optimizer, const FinalTrainingOptions& o);

}  // namespace hwnas::train::detail
