#pragma once
// ExperimentConfig: everything a search needs, as C++ options or the JSON file that
// `hwnas search --config` reads (same field names). Example file (docs/search.md):
//
//   {"space": {"name": "ofa", "config": {"width_mult": 1.2}},
//    "strategy": {"name": "evolution", "population": 100, "sample_size": 25},
//    "evaluator": {"name": "predictor", "predictor": "ofa_acc.json"},
//    "latency_tables": {"note10": "note10.json"},
//    "cost_models": [{"name": "analytic"}],    (the default; see hwnas/estimate/cost_models.h)
//    "objectives": [{"metric": "imagenet_top1", "goal": "max"},
//                   {"metric": "latency@note10", "goal": "min"}],
//    "constraints": ["latency@note10 <= 25 ms", "params <= 6M"],
//    "budget": {"evaluations": 5000, "seconds": 600},
//    "seed": 0, "batch_size": 100, "threads": 1, "output": "runs/ofa_note10"}
//
// Paths in a file are relative to the file's folder. Metrics: the evaluator's (see
// hwnas/estimate/factory.h) and the cost models': "params", "macs", "activation_bytes"
// (peak, batch 1, float32) from "analytic", "latency@<device>" for each latency table.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwnas/core/options.h"
#include "hwnas/strategy/strategy.h"

namespace hwnas::experiment {

/// A constraint such as "latency@cpu <= 8 ms" or "params <= 2e6".
struct Constraint {
  enum class Op { kLess, kLessEqual, kGreater, kGreaterEqual };
  std::string metric;
  Op op = Op::kLessEqual;
  double limit = 0;   // in the metric's unit (ms for latency, plain numbers otherwise)
  std::string text;   // as written

  /// Parses "<metric> <op> <number>[unit]"; op is <=, <, >= or >; units: us, ms, s for
  /// latency@ metrics (default ms), K, M, G (x1e3, 1e6, 1e9) and KiB, MiB, GiB for others.
  /// Throws ParseError naming the fault.
  static Constraint parse(const std::string& text);
  /// 0 when `value` meets the constraint, else the shortfall relative to the limit
  /// (|value - limit| / max(|limit|, 1e-12)), so constraints of different units add up.
  double violation(double value) const;
};

struct Budget {
  /// Evaluations (archs evaluated, a tabular benchmark's queries); 0 = no limit.
  HWNAS_ARG(int64_t, evaluations) = 100;
  /// Wall-clock seconds over all sessions of a run; 0 = no limit.
  HWNAS_ARG(double, seconds) = 0;
};

/// Device name -> latency table file.
using LatencyTables = std::map<std::string, std::string>;

struct ExperimentConfig {
  HWNAS_ARG(std::string, space) = "nb201";
  HWNAS_ARG(nlohmann::json, space_config) = nlohmann::json::object();
  HWNAS_ARG(std::string, strategy) = "evolution";
  /// The strategy's own options (e.g. {"population": 50}).
  HWNAS_ARG(nlohmann::json, strategy_config) = nlohmann::json::object();
  /// The evaluator as hwnas/estimate/factory.h describes it.
  HWNAS_ARG(nlohmann::json, evaluator) = nlohmann::json{{"name", "none"}};
  /// Device name -> latency table file; each gives the metric "latency@<device>" (short for
  /// a "latency" cost model with that table and device).
  HWNAS_ARG(LatencyTables, latency_tables);
  /// Cost models by name with their options (estimate::cost_model_registry(), e.g.
  /// [{"name": "analytic"}, {"name": "learned", "model": "cpu-learned.json"}]);
  /// empty means [{"name": "analytic"}]. The latency_tables are added to them.
  HWNAS_ARG(nlohmann::json, cost_models) = nlohmann::json::array();
  HWNAS_ARG(std::vector<strategy::Objective>, objectives);
  HWNAS_ARG(std::vector<std::string>, constraints);
  HWNAS_ARG(Budget, budget) = Budget();
  HWNAS_ARG(uint64_t, seed) = 0;
  /// Archs asked from the strategy and evaluated together.
  HWNAS_ARG(int64_t, batch_size) = 1;
  /// Threads for evaluation (LibTorch's intra-op threads and cost models).
  HWNAS_ARG(int64_t, threads) = 1;
  /// Checkpoint after every this many batches (and always at the end or on a stop).
  HWNAS_ARG(int64_t, checkpoint_every) = 1;
  /// Hypervolume reference point, one value per objective (empty: the worst value of each
  /// objective among the feasible archs evaluated, stated with the result).
  HWNAS_ARG(std::vector<double>, reference_point);
  /// The run directory.
  HWNAS_ARG(std::string, output) = "";

 public:
  /// Reads the JSON form; relative paths are taken from `base_dir` ("" = as given).
  /// Throws ConfigError naming a bad or unknown field.
  static ExperimentConfig from_json(const nlohmann::json& j, const std::string& base_dir = "");
  /// Reads a config file (paths relative to its folder).
  static ExperimentConfig load(const std::string& path);
  nlohmann::json to_json() const;
  /// The parsed constraints.
  std::vector<Constraint> parsed_constraints() const;
};

}  // namespace hwnas::experiment
