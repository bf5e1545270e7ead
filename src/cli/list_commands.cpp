// hwnas strategies | predictors | datasets | evaluators | cost-models | exporters | layer-kinds: what a registry holds, one line per entry (--json for
// scripts), as hwnas spaces lists the spaces.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <ostream>

#include <nlohmann/json.hpp>

#include "cli/context.h"
#include "hwnas/cost/layer_kind.h"
#include "hwnas/data/registry.h"
#include "hwnas/estimate/cost_models.h"
#include "hwnas/estimate/factory.h"
#include "hwnas/export/exporter.h"
#include "hwnas/predictors/predictor.h"
#include "hwnas/search_spaces/registry.h"
#include "hwnas/strategy/strategy.h"

namespace hwnas::cli {
namespace {

template <typename T, typename... C>
void add_list_command(CLI::App& app, Context& ctx, const std::string& name, const std::string& help,
                      const Registry<T, C...>& registry) {
  auto* cmd = app.add_subcommand(name, help);
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "Print JSON: [{\"name\", \"description\"}]");
  cmd->callback([&ctx, &registry, json] {
    ctx.action = [&ctx, &registry, json] {
      nlohmann::json out = nlohmann::json::array();
      size_t width = 0;
      for (const auto& n : registry.names()) width = std::max(width, n.size());
      for (const auto& e : registry.entries()) {
        if (*json)
          out.push_back({{"name", e.name}, {"description", e.description}});
        else
          *ctx.out << fmt::format("{:<{}}  {}\n", e.name, width, e.description);
      }
      if (*json) *ctx.out << out.dump(2) << "\n";
    };
  });
}

}  // namespace

void add_list_commands(CLI::App& app, Context& ctx) {
  add_list_command(app, ctx, "strategies", "List the registered search strategies", strategy::strategy_registry());
  add_list_command(app, ctx, "predictors", "List the registered accuracy predictors", predictors::predictor_registry());
  add_list_command(app, ctx, "datasets", "List the registered datasets (--data, an evaluator's \"data\")",
                   data::dataset_registry());
  add_list_command(app, ctx, "evaluators", "List the registered evaluators (an experiment's \"evaluator\")",
                   estimate::evaluator_registry());
  add_list_command(app, ctx, "cost-models", "List the registered cost models (an experiment's \"cost_models\")",
                   estimate::cost_model_registry());
  add_list_command(app, ctx, "exporters", "List the registered exporters (hwnas export --format)",
                   exporting::exporter_registry());
  spaces::register_builtin_layer_kinds();
  add_list_command(app, ctx, "layer-kinds", "List the layer kinds the cost models, profiler and latency tables know",
                   cost::layer_kind_registry());
}

}  // namespace hwnas::cli
