#include "hwnas/estimate/cost_models.h"

#include <nlohmann/json.hpp>

#include "hwnas/core/config.h"
#include "hwnas/core/error.h"
#include "hwnas/cost/latency_table.h"
#include "hwnas/estimate/learned_latency.h"
#include "hwnas/predictors/predictor.h"

namespace hwnas::estimate {
namespace {

constexpr const char* kRatioTarget = "latency_ratio_to:";

std::unique_ptr<cost::CostModel> make_learned(const nlohmann::json& config, const cost::CostModelContext& context) {
  ConfigReader r(config, "learned cost model");
  const auto predictor_path = r.get_string("predictor", "");
  const auto table_path = r.get_string("table", "");
  const auto device = r.get_string("device", "");
  r.finish();
  HWNAS_CHECK_T(ConfigError, !predictor_path.empty(), "learned cost model: give \"predictor\": a learned latency "
                "predictor file (hwnas calibrate --learned PREDICTOR --save-learned FILE)");
  HWNAS_CHECK_T(ConfigError, !device.empty(), "learned cost model: give \"device\": the name of its metric "
                "latency@<device> (distinct from the latency tables' devices)");
  HWNAS_CHECK_T(ConfigError, context.space != nullptr, "learned cost model: no search space given");
  std::shared_ptr<predictors::Predictor> predictor = predictors::load_predictor(predictor_path);
  const std::string target = predictor->target();
  std::shared_ptr<const cost::LatencyModel> table;
  if (target.rfind(kRatioTarget, 0) == 0) {
    HWNAS_CHECK_T(ConfigError, !table_path.empty(), "learned cost model: '", predictor_path, "' learned the ratio to ",
                  target.substr(std::string(kRatioTarget).size()), "; give that table as \"table\"");
    table = std::make_shared<cost::LatencyModel>(
        std::make_shared<cost::LatencyTable>(cost::LatencyTable::load(table_path)), context.space);
    HWNAS_CHECK_T(ConfigError, table->name() == target.substr(std::string(kRatioTarget).size()),
                  "learned cost model: '", predictor_path, "' learned the ratio to ",
                  target.substr(std::string(kRatioTarget).size()), ", but \"table\" is ", table->name());
  } else {
    HWNAS_CHECK_T(ConfigError, target == "latency_ms", "learned cost model: '", predictor_path,
                  "' predicts '", target, "', not a latency (latency_ms, or latency_ratio_to:<table>)");
    HWNAS_CHECK_T(ConfigError, table_path.empty(), "learned cost model: '", predictor_path,
                  "' learned the latency itself; remove \"table\"");
  }
  auto model = std::make_shared<LearnedLatencyModel>(context.space, std::move(predictor), std::move(table));
  return std::make_unique<LearnedCostModel>(std::move(model), "latency@" + device);
}

}  // namespace

cost::CostModelRegistry& cost_model_registry() {
  static cost::CostModelRegistry* registry = [] {
    auto* r = new cost::CostModelRegistry("cost model");
    cost::register_cost_models(*r);
    r->add("learned", "latency@<device> in ms from a learned latency model (\"predictor\", \"table\", \"device\")",
           make_learned);
    return r;
  }();
  return *registry;
}

LearnedCostModel::LearnedCostModel(std::shared_ptr<const LearnedLatencyModel> model, std::string metric)
    : model_(std::move(model)), metric_(std::move(metric)) {
  HWNAS_CHECK_T(ConfigError, model_ != nullptr, "LearnedCostModel needs a learned latency model");
}

std::vector<double> LearnedCostModel::evaluate(const Arch& arch, const std::vector<LayerSpec>&) const {
  return {model_->predict(arch)};
}

std::vector<std::vector<double>> LearnedCostModel::evaluate_batch(const std::vector<Arch>& archs,
                                                                  const std::vector<std::vector<LayerSpec>>&) const {
  std::vector<std::vector<double>> out;
  for (double ms : model_->predict(archs)) out.push_back({ms});
  return out;
}

}  // namespace hwnas::estimate
