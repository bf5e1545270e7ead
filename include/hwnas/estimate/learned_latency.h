#pragma once
// LearnedLatencyModel: a latency cost model learned from whole-network measurements, for
// devices where layer latencies do not add up (fusion, caches, scheduling).
//
// With a table it learns the non-additive rest: any predictor (hwnas/predictors/predictor.h)
// fitted on the space's encoding to the ratio measured / table(arch), and predicts
// table(arch) x ratio. Without a table the predictor learns the latency itself.
// Check it with evaluate_predictions (hwnas/cost/calibration.h) on held-out archs.
//
// Example:
//   LearnedLatencyModel learned(space, make_predictor("gp"), table_model);
//   learned.fit(train_measurements);
//   double ms = learned.predict(arch);
#include <memory>
#include <vector>

#include "hwnas/cost/calibration.h"
#include "hwnas/cost/latency_table.h"
#include "hwnas/predictors/predictor.h"

namespace hwnas::estimate {

class LearnedLatencyModel {
 public:
  /// `table` may be null (the predictor then learns the latency directly).
  LearnedLatencyModel(std::shared_ptr<const SearchSpace> space, std::shared_ptr<predictors::Predictor> predictor,
                      std::shared_ptr<const cost::LatencyModel> table = nullptr);

  /// Fits the predictor on these measurements (archs of the space).
  void fit(const std::vector<cost::Measurement>& measurements);
  double predict(const Arch& arch) const;
  std::vector<double> predict(const std::vector<Arch>& archs) const;

  const predictors::Predictor& predictor() const { return *predictor_; }
  bool has_table() const { return table_ != nullptr; }

 private:
  std::shared_ptr<const SearchSpace> space_;
  std::shared_ptr<predictors::Predictor> predictor_;
  std::shared_ptr<const cost::LatencyModel> table_;
};

}  // namespace hwnas::estimate
