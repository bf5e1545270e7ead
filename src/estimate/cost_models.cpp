#include "hwnas/estimate/cost_models.h"

#include <nlohmann/json.hpp>

#include "hwnas/core/config.h"
#include "hwnas/core/error.h"
#include "hwnas/core/json.h"
#include "hwnas/cost/latency_table.h"
#include "hwnas/estimate/learned_latency.h"
#include "hwnas/predictors/predictor.h"

namespace hwnas::estimate {
namespace {

std::unique_ptr<cost::CostModel> make_learned(const nlohmann::json& config, const cost::CostModelContext& context) {
  ConfigReader r(config, "learned cost model");
  auto model_path = r.get_string("model", "");
  const auto predictor_path = r.get_string("predictor", "");  // an earlier name of "model"
  const auto table_path = r.get_string("table", "");
  auto device = r.get_string("device", "");
  r.finish();
  HWNAS_CHECK_T(ConfigError, model_path.empty() || predictor_path.empty(), "learned cost model: give \"model\" only "
                "(\"predictor\" is its earlier name)");
  if (model_path.empty()) model_path = predictor_path;
  HWNAS_CHECK_T(ConfigError, !model_path.empty(), "learned cost model: give \"model\": a learned latency model file "
                "(hwnas calibrate --learned PREDICTOR --save-learned FILE)");
  HWNAS_CHECK_T(ConfigError, context.space != nullptr, "learned cost model: no search space given");
  const auto doc = read_json_file(model_path, "learned latency model");
  const auto needs = LearnedLatencyModel::table_needed(doc, model_path);
  std::shared_ptr<const cost::LatencyModel> table;
  if (!needs.empty()) {
    HWNAS_CHECK_T(ConfigError, !table_path.empty(), "learned cost model: '", model_path, "' learned the ratio to ",
                  needs, "; give that table as \"table\"");
    table = std::make_shared<cost::LatencyModel>(
        std::make_shared<cost::LatencyTable>(cost::LatencyTable::load(table_path)), context.space);
  } else {
    HWNAS_CHECK_T(ConfigError, table_path.empty(), "learned cost model: '", model_path,
                  "' learned the latency itself; remove \"table\"");
  }
  auto model = std::make_shared<LearnedLatencyModel>(LearnedLatencyModel::from_json(doc, model_path, context.space, table));
  if (device.empty()) device = model->device();
  HWNAS_CHECK_T(ConfigError, !device.empty(), "learned cost model: '", model_path, "' names no device; give \"device\": "
                "the name of its metric latency@<device> (distinct from the latency tables' devices)");
  return std::make_unique<LearnedCostModel>(std::move(model), "latency@" + device);
}

}  // namespace

cost::CostModelRegistry& cost_model_registry() {
  static cost::CostModelRegistry* registry = [] {
    auto* r = new cost::CostModelRegistry("cost model");
    cost::register_cost_models(*r);
    r->add("learned", "latency@<device> in ms from a learned latency model (\"model\", \"table\", \"device\")",
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
