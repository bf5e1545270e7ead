#pragma once
// The statistics of one search replayed with several seeds (`hwnas search --seeds N`, the
// protocol of the NAS-Bench-201 paper): the spread of the best value and of the
// hypervolume over seeds, every run's hypervolume measured from one reference point.
//
//   std::vector<experiment::RunResult> runs;
//   for (uint64_t s = 0; s < 5; ++s) runs.push_back(experiment::Experiment(config.seed(s)).run());
//   const auto summary = experiment::summarize_replay(config, runs);  // summary.to_json(): replay.json
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwnas/experiment/config.h"
#include "hwnas/experiment/runner.h"

namespace hwnas::experiment {

struct ReplaySummary {
  struct Run {
    uint64_t seed = 0;
    int64_t evaluations = 0;
    bool feasible = false;
    std::string best;        // the best arch's string (feasible runs)
    double best_value = 0;   // its first objective
    bool has_hypervolume = false;
    double hypervolume = 0;
  };
  std::string strategy;
  /// The first objective's name and whether it is maximised.
  std::string objective;
  bool maximize = true;
  uint64_t first_seed = 0;
  int64_t evaluations = 0;  // the budget of each run
  std::vector<Run> runs;
  int64_t feasible_runs = 0;
  /// Mean and sample standard deviation of the feasible runs' best values (NaN: none).
  double best_mean = 0, best_std = 0, best_min = 0, best_max = 0;
  /// Multi-objective runs: hypervolume mean and std, from `reference_point` (the config's,
  /// else the worst feasible front values over all runs, so the runs compare).
  bool has_hypervolume = false;
  double hypervolume_mean = 0, hypervolume_std = 0;
  std::vector<double> reference_point;
  bool reference_given = false;

  /// What replay.json holds.
  nlohmann::json to_json() const;
};

/// The summary of `results`, run i made from `config` with seed config.seed() + i.
ReplaySummary summarize_replay(const ExperimentConfig& config, const std::vector<RunResult>& results);

}  // namespace hwnas::experiment
