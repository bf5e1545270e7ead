#pragma once
// Evaluators from a JSON description: what `hwnas evaluate` and experiment configs use.
//
//   {"name": "short_training",                       a registered evaluator (evaluator_registry())
//    "options": {"steps": 200, "lr": 0.05},          the evaluator's own options
//    "data": {"name": "fashion-mnist", "dir": "", "train_size": 5000, "valid_size": 1000, "config": {}},
//    "table": "t.csv",            tabular: the table (CSV, JSONL or JSON)
//    "predictor": "p.json",       predictor: a saved predictor ("metric": its metric name)
//    "supernet": "w.pt"}          inherited: trained supernet weights
// "data" may also be given to tabular, predictor and none, for whoever uses the setup's data.
// Spaces with input/class settings are fitted to the data (Fashion-MNIST: 1x28x28, 10
// classes) unless the space config sets them.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "hwnas/core/registry.h"
#include "hwnas/data/dataset.h"
#include "hwnas/estimate/evaluator.h"

namespace hwnas::nn {
class Supernet;
}

namespace hwnas::estimate {

/// The sizes of an evaluator's "data" when it gives none: images of the training part to
/// train on, and the next ones, held out, to validate on.
inline constexpr int64_t kDefaultTrainSize = 5000, kDefaultValidSize = 1000;

struct EvaluatorSetup {
  std::shared_ptr<SearchSpace> space;  // the space, fitted to the evaluator's data
  std::shared_ptr<Evaluator> evaluator;
  /// The spec's "data" (train and validation splits); empty for tabular, predictor and
  /// none unless the spec gives "data" (e.g. for a one-shot search's supernet).
  data::Dataset train, valid;
};

/// The space `name` with `config`, its input and class count set from `data` where the
/// space has those settings and `config` does not set them (what make_evaluator searches).
std::shared_ptr<SearchSpace> fit_space_to_data(const std::string& name, nlohmann::json config,
                                               const data::Dataset& data);

/// Writes a supernet's weights as `hwnas train-supernet` does (what load_supernet reads).
void save_supernet(nn::Supernet& net, const std::string& path);
/// A trained supernet of `space` from `path` (`hwnas train-supernet` output); throws
/// DataError naming the file and the first tensor whose shape differs from the space's.
std::shared_ptr<nn::Supernet> load_supernet(const SearchSpace& space, const std::string& path);

/// What an evaluator's make function gets besides its spec.
struct EvaluatorContext {
  std::shared_ptr<SearchSpace> space;  // the experiment's space, fitted to the data if any
  /// The spec's "data" as (train, validation) splits; empty when the kind does not need
  /// data and the spec gives none.
  const data::Dataset& train;
  const data::Dataset& valid;
  uint64_t seed;
};

/// An evaluator kind: what an experiment config's {"name": ...} makes.
struct EvaluatorKind {
  /// Load the data (the spec's "data", Fashion-MNIST 5000 + 1000 by default) even when the
  /// spec gives none, and fit the space to it.
  bool needs_data = true;
  /// Makes the evaluator from the spec without "name" and "data" (its "options" and any
  /// file fields); reads it with ConfigReader and finish(), so unknown fields are errors.
  std::function<std::shared_ptr<Evaluator>(const nlohmann::json& spec, const EvaluatorContext&)> make;
};

using EvaluatorRegistry = Registry<EvaluatorKind>;

/// Built-ins: short_training, proxies, inherited, tabular, predictor, none (no accuracy
/// metrics: a search on cost models alone).
EvaluatorRegistry& evaluator_registry();
/// Registers a user's evaluator under `name`, for experiment configs and `hwnas evaluate`.
void register_evaluator(const std::string& name, const std::string& description, EvaluatorKind kind);
/// The registered names, sorted.
std::vector<std::string> evaluator_names();

/// Builds the evaluator of `spec` for space `space_name` with `space_config`; `seed` seeds
/// data order, weights and proxies' minibatch. Throws ConfigError naming a bad field.
EvaluatorSetup make_evaluator(const nlohmann::json& spec, const std::string& space_name,
                              const nlohmann::json& space_config, uint64_t seed);

}  // namespace hwnas::estimate
