#pragma once
// Evaluator: "how good is this arch", at any cost, behind one interface. Strategies ask
// an evaluator for a batch of archs and get named metrics per arch (e.g. "val_accuracy",
// "val_loss", "synflow", or a predictor's target). Built-ins:
//   TabularEvaluator          (this header)  a table of measured/published metrics
//   PredictorEvaluator        (this header)  any fitted Predictor
//   ShortTrainingEvaluator    (short_training.h)  trains the standalone model briefly
//   InheritedWeightsEvaluator (inherited.h)  a trained supernet's weights, BN recalibrated
//   ProxyEvaluator            (proxies.h)    zero-cost proxies at initialisation
//
// Example:
//   TabularEvaluator table(space, "nb201_fmnist.csv");
//   auto metrics = table.evaluate({a, b});      // metrics[0]["val_accuracy"]
//   table.queries();                            // 2
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "hwnas/core/arch.h"
#include "hwnas/core/arch_table.h"
#include "hwnas/core/options.h"

namespace hwnas {
class SearchSpace;
}

namespace hwnas::predictors {
class Predictor;  // hwnas/predictors/predictor.h
}

namespace hwnas::estimate {

/// Metric values of one arch, by name.
using Metrics = std::map<std::string, double>;

class Evaluator {
 public:
  virtual ~Evaluator() = default;
  /// Short name, e.g. "tabular".
  virtual std::string name() const = 0;
  /// Names of the metrics every evaluation returns.
  virtual std::vector<std::string> metrics() const = 0;

  /// Evaluates a batch; one Metrics per arch, in order. Counts the archs as queries.
  std::vector<Metrics> evaluate(const std::vector<Arch>& archs);
  /// Archs evaluated so far (a simulated search's budget).
  int64_t queries() const noexcept { return queries_; }

 protected:
  virtual std::vector<Metrics> do_evaluate(const std::vector<Arch>& archs) = 0;

 private:
  std::atomic<int64_t> queries_{0};
};

/// Options of TabularEvaluator.
struct TabularOptions {
  /// Evaluates archs missing from the table (null: a missing arch is an error).
  HWNAS_ARG(std::shared_ptr<Evaluator>, fallback);
};

/// Replays a table (see hwnas/core/arch_table.h for the file formats) of any metrics per
/// canonical arch: NAS-Bench-201-style accuracies, HW-NAS-Bench-style latencies, ground
/// truth made with ShortTrainingEvaluator. Duplicate archs are an error.
class TabularEvaluator : public Evaluator {
 public:
  TabularEvaluator(const SearchSpace& space, const std::string& path, TabularOptions options = {});
  TabularEvaluator(ArchTable table, TabularOptions options = {});
  std::string name() const override { return "tabular"; }
  std::vector<std::string> metrics() const override { return table_.columns; }
  const ArchTable& table() const { return table_; }
  bool contains(const Arch& arch) const;
  /// Fallback evaluations so far.
  int64_t misses() const noexcept { return misses_; }

 protected:
  std::vector<Metrics> do_evaluate(const std::vector<Arch>& archs) override;

 private:
  ArchTable table_;
  TabularOptions options_;
  std::map<std::string, size_t> index_;  // canonical string -> row
  int64_t misses_ = 0;
};

/// A fitted predictor as an evaluator: one metric (named `metric`, default the
/// predictor's target or "predicted"), plus "<metric>_std" when it has uncertainty.
/// An arch seen before (in this batch or an earlier one) is not predicted again: its
/// values are remembered (up to the last kMaxRemembered distinct archs).
class PredictorEvaluator : public Evaluator {
 public:
  PredictorEvaluator(std::shared_ptr<const SearchSpace> space, std::shared_ptr<const predictors::Predictor> predictor,
                     std::string metric = "");
  std::string name() const override { return "predictor"; }
  std::vector<std::string> metrics() const override;

 protected:
  std::vector<Metrics> do_evaluate(const std::vector<Arch>& archs) override;

 private:
  std::shared_ptr<const SearchSpace> space_;
  std::shared_ptr<const predictors::Predictor> predictor_;
  std::string metric_;

 public:
  static constexpr size_t kMaxRemembered = size_t{1} << 20;
  /// Archs answered from memory so far.
  int64_t remembered() const noexcept { return remembered_; }

 private:
  std::unordered_map<std::string, std::pair<double, double>> seen_;  // canonical string -> (mean, std)
  int64_t remembered_ = 0;
};

}  // namespace hwnas::estimate
