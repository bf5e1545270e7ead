#pragma once
// Experiment: runs a search described by an ExperimentConfig, end to end and resumable.
//
// Each batch: ask the strategy, evaluate (evaluator metrics + cost models), compute the
// objectives and the constraint violation, tell the strategy, append every candidate to
// <output>/log.jsonl, and (every `checkpoint_every` batches) write <output>/checkpoint.json
// atomically with the complete state. A run killed at any moment (Ctrl-C, kill -9, power
// loss) continues with RunOptions().resume(true) and ends exactly as an uninterrupted run
// with the same seed. Results: best.json, pareto.json and summary.txt in the output.
//
// A one-shot strategy (a name in oneshot::method_registry(): darts, pcdarts, gdas, fbnet,
// proxyless or one registered by the user; hwnas/oneshot/method.h) trains on the
// evaluator's "data" instead: epochs.jsonl (one report per epoch), search.pt (its
// checkpoint after every epoch, for --resume), then the selected arch is measured and
// recorded like any candidate into log.jsonl, best.json, pareto.json and summary.txt.
//
//   auto config = hwnas::experiment::ExperimentConfig::load("experiment.json");
//   hwnas::experiment::Experiment exp(config);
//   auto result = exp.run();
//   std::cout << hwnas::experiment::summary_table(result);
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hwnas/core/arch.h"
#include "hwnas/estimate/evaluator.h"
#include "hwnas/experiment/config.h"

namespace hwnas {
class SearchSpace;
class RunDirectory;
}

namespace hwnas::experiment {

/// One evaluated candidate, as logged.
struct Record {
  int64_t index = 0;  // 0-based order of evaluation
  int64_t batch = 0;  // the batch (generation) it was asked in
  Arch arch;
  estimate::Metrics metrics;       // every metric (evaluator and cost models)
  std::vector<double> objectives;  // in config order, in their own units
  double violation = 0;            // 0 = meets every constraint
  double time_s = 0;               // run time when it was evaluated
  std::string error;               // why an objective is not a finite number ("" = none)
  bool feasible() const { return violation == 0 && error.empty(); }
};

/// Progress after each batch (for progress bars).
struct Progress {
  int64_t evaluations = 0;
  int64_t budget_evaluations = 0;  // 0 = none
  double elapsed_s = 0;
  double budget_seconds = 0;       // 0 = none
  std::optional<Record> best;
  size_t front_size = 0;
};

/// A flag the run polls between batches.
using StopFlag = const std::atomic<bool>*;

struct RunOptions {
  /// Continue the run in the output directory (it must have been made with the same
  /// config, budget and threads aside).
  HWNAS_ARG(bool, resume) = false;
  /// Replace an existing run directory.
  HWNAS_ARG(bool, overwrite) = false;
  /// When set to true (e.g. by a SIGINT handler), the run stops after the current batch,
  /// checkpointed.
  HWNAS_ARG(StopFlag, stop) = nullptr;
  /// Called after every batch.
  HWNAS_ARG(std::function<void(const Progress&)>, on_batch);
};

struct RunResult {
  std::vector<strategy::Objective> objectives;
  std::vector<std::string> constraints;
  int64_t evaluations = 0;
  double seconds = 0;
  bool stopped = false;          // stopped by RunOptions::stop before the budget was spent
  std::optional<Record> best;    // feasible first, then by the first objective
  std::vector<Record> front;     // the non-dominated feasible candidates (all candidates
                                 // if none is feasible), sorted by the first objective
  bool feasible_found = false;
  /// Multi-objective runs: hypervolume of the feasible front and the reference point it
  /// was measured from (objectives in their own units and directions).
  double hypervolume = 0;
  std::vector<double> reference_point;
  std::string output;
};

class Experiment {
 public:
  /// Builds the space, evaluator, cost models and strategy; checks every objective and
  /// constraint names a known metric (the error lists them).
  explicit Experiment(ExperimentConfig config);
  ~Experiment();
  Experiment(const Experiment&) = delete;
  Experiment& operator=(const Experiment&) = delete;

  RunResult run(const RunOptions& options = {});

  const ExperimentConfig& config() const { return config_; }
  std::shared_ptr<const SearchSpace> space() const;
  /// Names of every metric a candidate gets.
  std::vector<std::string> metric_names() const;
  /// Evaluates archs without the strategy (evaluator metrics + cost models).
  std::vector<estimate::Metrics> measure(const std::vector<Arch>& archs);

 private:
  void check_same_config(const RunDirectory& run_dir) const;
  void restore(const RunDirectory& run_dir);
  RunResult run_ask_tell(const RunDirectory& run_dir, const RunOptions& options);
  RunResult run_one_shot(const RunDirectory& run_dir, const RunOptions& options);
  /// Fills `result` from the records (best, sorted front, hypervolume) and writes summary.txt.
  RunResult finish(RunResult result, double seconds);
  struct Impl;
  ExperimentConfig config_;
  std::unique_ptr<Impl> impl_;
};

/// Hypervolume dominated by `points` up to `reference`, with every objective in its
/// direction (a point counts only where it is better than the reference in every objective).
double hypervolume(const std::vector<std::vector<double>>& points, const std::vector<double>& reference,
                   const std::vector<strategy::Objective>& objectives);

/// The nadir of the feasible records: per objective, the worst value among them in its
/// direction (NaN when none is feasible). The hypervolume's reference point when the
/// config gives none.
std::vector<double> nadir(const std::vector<Record>& records, const std::vector<strategy::Objective>& objectives);

/// The table printed at the end of a run: budget used, best, front (up to `max_rows`),
/// hypervolume and reference point, or the closest arch when none met the constraints.
std::string summary_table(const RunResult& result, size_t max_rows = 10);

}  // namespace hwnas::experiment
