#pragma once
// A trained run directory as `hwnas train` writes it, opened from C++:
//   arch.json   the space, its config and the arch (written first)
//   weights.pt  the trained weights (an hwnas archive file, written when training ends)
//   train.json  the summary: recipe, per-epoch history, test accuracy, costs
//   checkpoint/ the training checkpoint (resume)
// A search run whose winner was trained into RUN/train opens as that run.
//
//   auto run = hwnas::train::TrainedRun::open("runs/winner");
//   auto net = run.network();  // eval mode, the trained weights loaded
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "hwnas/core/arch.h"
#include "hwnas/core/search_space.h"
#include "hwnas/nn/network.h"

namespace hwnas::train {

struct TrainedRun {
  std::string dir;                            // the run directory opened (RUN/train for a search run)
  std::shared_ptr<const SearchSpace> space;  // as arch.json names and configures it
  Arch arch;
  nlohmann::json summary;  // train.json; null when the run has none

  /// Opens a finished run. Throws NotFoundError saying what `dir` holds instead (a search
  /// run without a trained winner, an unfinished training, no run) and how to finish it,
  /// DataError when arch.json is malformed.
  static TrainedRun open(const std::string& dir);

  /// The path of the weights file.
  std::string weights_path() const;
  /// The network of `arch` with the trained weights, in eval mode; throws DataError when
  /// the weights file is damaged or belongs to another arch.
  std::shared_ptr<nn::Network> network() const;
};

}  // namespace hwnas::train
