// A cost model written outside the library: energy per inference from a per-kind energy
// cost of a MAC (a convolution's MAC and a fully connected one's differ on most
// accelerators), registered by name and used as a search constraint through an experiment
// config, as any built-in cost model. Exits 1 unless the search's best meets the limit
// and has the highest MACs among the archs that do (checked by brute force).
//
//   ./custom_cost_model [OUTPUT_DIR]
#include <algorithm>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "hwnas/cost/analytic.h"
#include "hwnas/cost/cost_model.h"
#include "hwnas/estimate/cost_models.h"
#include "hwnas/experiment/runner.h"
#include "hwnas/search_spaces/registry.h"

namespace {

// mJ per million MACs of each layer kind (the rest count as convolutions).
class EnergyModel : public hwnas::cost::CostModel {
 public:
  EnergyModel(double conv_mj, double linear_mj) : conv_mj_(conv_mj), linear_mj_(linear_mj) {}
  std::vector<hwnas::cost::CostMetric> metrics() const override { return {{"energy_mj", "mJ"}}; }
  std::vector<double> evaluate(const hwnas::Arch&, const std::vector<hwnas::LayerSpec>& layers) const override {
    double mj = 0;
    for (const auto& l : layers)
      mj += 1e-6 * static_cast<double>(hwnas::cost::layer_cost(l).macs) * (l.kind == "linear" ? linear_mj_ : conv_mj_);
    return {mj};
  }

 private:
  double conv_mj_, linear_mj_;
};

}  // namespace

int main(int argc, char** argv) {
  hwnas::estimate::cost_model_registry().add(
      "energy", "energy_mj: MACs times a per-kind energy (\"conv_mj\", \"linear_mj\" per million MACs)",
      [](const nlohmann::json& config, const hwnas::cost::CostModelContext&) {
        return std::make_unique<EnergyModel>(config.value("conv_mj", 0.9), config.value("linear_mj", 3.0));
      });

  const std::string out = argc > 1 ? argv[1] : "energy_search";
  const nlohmann::json energy = {{"name", "energy"}, {"conv_mj", 0.9}, {"linear_mj", 3.0}};
  const double limit = 6;  // mJ: about half of the largest arch's
  hwnas::experiment::ExperimentConfig config;
  config.space("nb201")
      .space_config({{"channels", 8}, {"cells_per_stage", 1}})
      .strategy("evolution")
      .strategy_config({{"population", 20}, {"sample_size", 5}})
      .cost_models(nlohmann::json::array({{{"name", "analytic"}}, energy}))
      .objectives({{"macs", hwnas::strategy::Direction::kMaximize}})
      .constraints({"energy_mj <= " + std::to_string(limit)})
      .budget(hwnas::experiment::Budget().evaluations(600))
      .batch_size(20)
      .seed(0)
      .output(out);
  hwnas::experiment::Experiment experiment(config);
  const auto result = experiment.run(hwnas::experiment::RunOptions().overwrite(true));
  const auto& best = *result.best;

  // Brute force over the 15,625 archs: the most MACs within the limit.
  auto space = hwnas::make_space("nb201", {{"channels", 8}, {"cells_per_stage", 1}});
  EnergyModel model(0.9, 3.0);
  double best_macs = -1;
  for (const auto& a : space->enumerate()) {
    const auto layers = space->layers(a);
    if (model.evaluate(a, layers)[0] <= limit)
      best_macs = std::max(best_macs, static_cast<double>(hwnas::cost::network_cost(layers).macs));
  }
  std::cout << "best " << best.arch.str() << ": " << best.metrics.at("macs") << " MACs, "
            << best.metrics.at("energy_mj") << " mJ (limit " << limit << " mJ; the most MACs within it: " << best_macs
            << ")\n";
  return best.feasible() && best.metrics.at("macs") == best_macs ? 0 : 1;
}
