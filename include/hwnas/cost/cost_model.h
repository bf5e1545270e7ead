#pragma once
// CostModel: what a search measures of an arch besides its accuracy (parameters, MACs,
// memory, latency on a device, ...), as named metrics with units. Experiment configs name
// cost models ("cost_models": [...]); each metric can be an objective or a constraint.
//
// Built-ins (registered in estimate::cost_model_registry(), hwnas/estimate/cost_models.h):
//   analytic  params, macs, activation_bytes (peak, batch 1, float32)
//   latency   latency@<device> from a latency table (calibrated or not)
//   learned   latency@<device> from a learned latency model (estimate::LearnedLatencyModel)
// A user's cost model implements this interface and registers a factory.
//
// Example:
//   auto model = hwnas::estimate::cost_model_registry().create("latency", {{"table", "cpu.json"}}, {space});
//   auto values = model->evaluate(arch, space->layers(arch));   // {latency in ms}
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hwnas/core/arch.h"
#include "hwnas/core/layer_spec.h"
#include "hwnas/core/registry.h"

namespace hwnas {
class SearchSpace;
}

namespace hwnas::cost {

class LatencyModel;

struct CostMetric {
  std::string name;  // e.g. "params", "latency@cpu"
  std::string unit;  // e.g. "", "bytes", "ms"
};

class CostModel {
 public:
  virtual ~CostModel() = default;
  /// The metrics evaluate() returns, in its order.
  virtual std::vector<CostMetric> metrics() const = 0;
  /// The metrics of `arch`, given its layers (the space's layers(arch)). Called from
  /// several threads at once: implementations must be safe for concurrent calls.
  virtual std::vector<double> evaluate(const Arch& arch, const std::vector<LayerSpec>& layers) const = 0;
  /// evaluate() for several archs at once (one row per arch); override it when a batch is
  /// cheaper than its archs one by one (a predictor's batched pass).
  virtual std::vector<std::vector<double>> evaluate_batch(const std::vector<Arch>& archs,
                                                          const std::vector<std::vector<LayerSpec>>& layers) const;
  /// The metrics without the arch's layers, where the model can (e.g. from values it
  /// precomputed per layer part, SearchSpace::layer_parts); nothing where it cannot. The
  /// runner asks this first and builds an arch's layers only when a model answers nothing.
  virtual std::optional<std::vector<double>> evaluate_without_layers(const Arch& arch) const { return std::nullopt; }
  /// The latency table model behind this cost model, if any (hardware losses of one-shot
  /// searches use it); null by default.
  virtual std::shared_ptr<const LatencyModel> latency_model() const { return nullptr; }
};

/// What a cost model's factory gets besides its JSON config. (Experiment configs resolve a
/// cost model's "table" and "predictor" paths against the config file's folder first.)
struct CostModelContext {
  std::shared_ptr<const SearchSpace> space;
};

using CostModelRegistry = Registry<CostModel, const CostModelContext&>;

/// params, macs and activation_bytes from the analytic model (hwnas/cost/analytic.h).
class AnalyticCostModel : public CostModel {
 public:
  /// `space`: precompute its layer parts (null: always from the layers).
  explicit AnalyticCostModel(std::shared_ptr<const SearchSpace> space = nullptr);
  ~AnalyticCostModel() override;
  std::vector<CostMetric> metrics() const override;
  std::vector<double> evaluate(const Arch& arch, const std::vector<LayerSpec>& layers) const override;
  std::optional<std::vector<double>> evaluate_without_layers(const Arch& arch) const override;

 private:
  struct Parts;  // params, MACs and peak activations per layer-part value
  std::shared_ptr<const SearchSpace> space_;
  std::shared_ptr<Parts> parts_;
};

/// latency@<device> (ms) from a latency table; config {"table": FILE, "device": NAME
/// (default: the table's device name)}.
class LatencyCostModel : public CostModel {
 public:
  LatencyCostModel(std::shared_ptr<const LatencyModel> model, std::string metric);
  std::vector<CostMetric> metrics() const override { return {{metric_, "ms"}}; }
  std::vector<double> evaluate(const Arch& arch, const std::vector<LayerSpec>& layers) const override;
  std::optional<std::vector<double>> evaluate_without_layers(const Arch& arch) const override;
  std::shared_ptr<const LatencyModel> latency_model() const override { return model_; }

 private:
  std::shared_ptr<const LatencyModel> model_;
  std::string metric_;
};

/// Registers "analytic" and "latency" (estimate::cost_model_registry() calls it).
void register_cost_models(CostModelRegistry& registry);

}  // namespace hwnas::cost
