#pragma once
// The cost-model registry (cost::CostModel, hwnas/cost/cost_model.h) with the built-ins:
// "analytic" and "latency" from cost, and "learned" from here: a learned latency model
// (LearnedLatencyModel) as a cost model, so it can be an objective or a constraint of any
// search.
//
// Example (an experiment config's "cost_models"):
//   [{"name": "analytic"},
//    {"name": "latency", "table": "cpu.json"},
//    {"name": "learned", "predictor": "cpu-learned.json", "table": "cpu.json", "device": "cpu-learned"}]
#include <memory>
#include <string>
#include <vector>

#include "hwnas/cost/cost_model.h"

namespace hwnas::estimate {

class LearnedLatencyModel;

/// The cost-model registry, built-ins registered on first use.
cost::CostModelRegistry& cost_model_registry();

/// latency@<device> (ms) from a fitted learned latency model. Config: {"predictor": FILE (a
/// predictor saved by `hwnas calibrate --learned ... --save-learned`), "table": FILE (needed
/// when the predictor learned the ratio to a table: the same table), "device": NAME}.
class LearnedCostModel : public cost::CostModel {
 public:
  LearnedCostModel(std::shared_ptr<const LearnedLatencyModel> model, std::string metric);
  std::vector<cost::CostMetric> metrics() const override { return {{metric_, "ms"}}; }
  std::vector<double> evaluate(const Arch& arch, const std::vector<LayerSpec>& layers) const override;
  std::vector<std::vector<double>> evaluate_batch(const std::vector<Arch>& archs,
                                                  const std::vector<std::vector<LayerSpec>>& layers) const override;

 private:
  std::shared_ptr<const LearnedLatencyModel> model_;
  std::string metric_;
};

}  // namespace hwnas::estimate
