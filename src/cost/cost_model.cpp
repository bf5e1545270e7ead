#include "hwnas/cost/cost_model.h"

#include <nlohmann/json.hpp>

#include "hwnas/core/config.h"
#include "hwnas/core/error.h"
#include "hwnas/cost/analytic.h"
#include "hwnas/cost/latency_table.h"

namespace hwnas::cost {

std::vector<std::vector<double>> CostModel::evaluate_batch(const std::vector<Arch>& archs,
                                                         const std::vector<std::vector<LayerSpec>>& layers) const {
  HWNAS_INTERNAL_ASSERT(archs.size() == layers.size(), "evaluate_batch: ", archs.size(), " archs, ", layers.size(),
                        " layer lists");
  std::vector<std::vector<double>> out;
  out.reserve(archs.size());
  for (size_t i = 0; i < archs.size(); ++i) out.push_back(evaluate(archs[i], layers[i]));
  return out;
}

std::vector<CostMetric> AnalyticCostModel::metrics() const {
  return {{"params", ""}, {"macs", ""}, {"activation_bytes", "bytes"}};
}

std::vector<double> AnalyticCostModel::evaluate(const Arch&, const std::vector<LayerSpec>& layers) const {
  const auto c = network_cost(layers);
  return {static_cast<double>(c.params), static_cast<double>(c.macs), static_cast<double>(c.peak_activation_bytes())};
}

LatencyCostModel::LatencyCostModel(std::shared_ptr<const LatencyModel> model, std::string metric)
    : model_(std::move(model)), metric_(std::move(metric)) {
  HWNAS_CHECK_T(ConfigError, model_ != nullptr, "LatencyCostModel needs a latency model");
}

std::vector<double> LatencyCostModel::evaluate(const Arch& arch, const std::vector<LayerSpec>& layers) const {
  return {model_->predict(arch, layers)};
}

void register_cost_models(CostModelRegistry& registry) {
  registry.add("analytic", "params, macs, activation_bytes (peak, batch 1, float32) from the layers",
               [](const nlohmann::json& config, const CostModelContext&) {
                 ConfigReader r(config, "analytic cost model");
                 r.finish();
                 return std::make_unique<AnalyticCostModel>();
               });
  registry.add("latency", "latency@<device> in ms from a latency table (\"table\": FILE, \"device\": NAME)",
               [](const nlohmann::json& config, const CostModelContext& context) {
                 ConfigReader r(config, "latency cost model");
                 const auto path = r.get_string("table", "");
                 auto device = r.get_string("device", "");
                 r.finish();
                 HWNAS_CHECK_T(ConfigError, !path.empty(), "latency cost model: give \"table\": a latency table file "
                               "(hwnas profile or hwnas table import-ofa)");
                 HWNAS_CHECK_T(ConfigError, context.space != nullptr, "latency cost model: no search space given");
                 auto table = std::make_shared<LatencyTable>(LatencyTable::load(path));
                 if (device.empty()) device = table->device.name;
                 return std::make_unique<LatencyCostModel>(std::make_shared<LatencyModel>(table, context.space),
                                                           "latency@" + device);
               });
}

}  // namespace hwnas::cost
