#include "hwnas/cost/cost_model.h"

#include <algorithm>
#include <mutex>

#include <nlohmann/json.hpp>

#include "hwnas/core/config.h"
#include "hwnas/core/error.h"
#include "hwnas/cost/analytic.h"
#include "hwnas/cost/latency_table.h"
#include "cost/layer_parts.h"

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

// Per part and value of its genes: the sums and the peak of its layers' costs (NaN-free
// integers, so the totals are the layer-by-layer ones exactly).
struct AnalyticCostModel::Parts {
  struct Cost {
    int64_t params = 0, macs = 0, peak = 0;
  };
  std::once_flag once;
  std::unique_ptr<LayerPartTable> parts;
  std::vector<std::vector<Cost>> costs;  // per part, per layer of parts->layers(i)
};

AnalyticCostModel::AnalyticCostModel(std::shared_ptr<const SearchSpace> space)
    : space_(std::move(space)), parts_(std::make_shared<Parts>()) {}

AnalyticCostModel::~AnalyticCostModel() = default;

std::vector<double> AnalyticCostModel::evaluate(const Arch&, const std::vector<LayerSpec>& layers) const {
  const auto c = network_cost(layers);
  return {static_cast<double>(c.params), static_cast<double>(c.macs), static_cast<double>(c.peak_activation_bytes())};
}

std::optional<std::vector<double>> AnalyticCostModel::evaluate_without_layers(const Arch& arch) const {
  if (!space_) return std::nullopt;
  auto& p = *parts_;
  std::call_once(p.once, [&] {
    p.parts = std::make_unique<LayerPartTable>(*space_);
    for (size_t i = 0; i < p.parts->size(); ++i) {
      std::vector<Parts::Cost> c;
      for (const auto& l : p.parts->layers(i)) {
        const auto lc = layer_cost(l);
        c.push_back({lc.params, lc.macs, lc.activations});
      }
      p.costs.push_back(std::move(c));
    }
  });
  if (p.parts->empty()) return std::nullopt;
  NetworkCost total;
  for (size_t i = 0; i < p.parts->size(); ++i) {
    const auto range = p.parts->range(i, arch);
    if (!range) return std::nullopt;
    for (size_t j = range->first; j < range->second; ++j) {
      const auto& c = p.costs[i][j];
      if (c.params < 0 || c.macs < 0 || __builtin_add_overflow(total.params, c.params, &total.params) ||
          __builtin_add_overflow(total.macs, c.macs, &total.macs))
        return std::nullopt;  // the layer-by-layer sum says where
      total.peak_activations = std::max(total.peak_activations, c.peak);
    }
  }
  return std::vector<double>{static_cast<double>(total.params), static_cast<double>(total.macs),
                             static_cast<double>(total.peak_activation_bytes())};
}

LatencyCostModel::LatencyCostModel(std::shared_ptr<const LatencyModel> model, std::string metric)
    : model_(std::move(model)), metric_(std::move(metric)) {
  HWNAS_CHECK_T(ConfigError, model_ != nullptr, "LatencyCostModel needs a latency model");
}

std::vector<double> LatencyCostModel::evaluate(const Arch& arch, const std::vector<LayerSpec>& layers) const {
  return {model_->predict(arch, layers)};
}

std::optional<std::vector<double>> LatencyCostModel::evaluate_without_layers(const Arch& arch) const {
  if (const auto ms = model_->predict_without_layers(arch)) return std::vector<double>{*ms};
  return std::nullopt;
}

void register_cost_models(CostModelRegistry& registry) {
  registry.add("analytic", "params, macs, activation_bytes (peak, batch 1, float32) from the layers",
               [](const nlohmann::json& config, const CostModelContext& context) {
                 ConfigReader r(config, "analytic cost model");
                 r.finish();
                 return std::make_unique<AnalyticCostModel>(context.space);
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
