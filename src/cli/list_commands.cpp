// hwnas strategies (ask/tell and one-shot) | predictors | datasets | evaluators | cost-models | exporters | layer-kinds: what a registry holds, one line per entry (--json for
// scripts), as hwnas spaces lists the spaces.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/context.h"
#include "hwnas/cost/layer_kind.h"
#include "hwnas/data/registry.h"
#include "hwnas/estimate/cost_models.h"
#include "hwnas/estimate/factory.h"
#include "hwnas/export/exporter.h"
#include "hwnas/oneshot/method.h"
#include "hwnas/predictors/encoding.h"
#include "hwnas/predictors/predictor.h"
#include "hwnas/search_spaces/registry.h"
#include "hwnas/strategy/strategy.h"

namespace hwnas::cli {
namespace {

struct Row {
  std::string name, description, kind;  // kind: "" where a registry has one kind
};

template <typename T, typename... C>
std::vector<Row> rows_of(const Registry<T, C...>& registry, const std::string& kind = "") {
  std::vector<Row> rows;
  for (const auto& e : registry.entries()) rows.push_back({e.name, e.description, kind});
  return rows;
}

void add_list_command(CLI::App& app, Context& ctx, const std::string& name, const std::string& help,
                      std::function<std::vector<Row>()> list) {
  auto* cmd = app.add_subcommand(name, help);
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "Print JSON: [{\"name\", \"description\"}] (strategies: and \"kind\")");
  cmd->callback([&ctx, list, json] {
    ctx.action = [&ctx, list, json] {
      const auto rows = list();
      nlohmann::json out = nlohmann::json::array();
      size_t width = 0, kind_width = 0;
      for (const auto& r : rows) {
        width = std::max(width, r.name.size());
        kind_width = std::max(kind_width, r.kind.size());
      }
      for (const auto& r : rows) {
        if (*json) {
          out.push_back({{"name", r.name}, {"description", r.description}});
          if (!r.kind.empty()) out.back()["kind"] = r.kind;
        } else if (r.kind.empty()) {
          *ctx.out << fmt::format("{:<{}}  {}\n", r.name, width, r.description);
        } else {
          *ctx.out << fmt::format("{:<{}}  {:<{}}  {}\n", r.name, width, r.kind, kind_width, r.description);
        }
      }
      if (*json) *ctx.out << out.dump(2) << "\n";
    };
  });
}

}  // namespace

void add_list_commands(CLI::App& app, Context& ctx) {
  add_list_command(app, ctx, "strategies", "List the registered search strategies: ask/tell and one-shot", [] {
    auto rows = rows_of(strategy::strategy_registry(), "ask-tell");
    for (auto& r : rows_of(oneshot::method_registry(), "one-shot")) rows.push_back(std::move(r));
    return rows;
  });
  add_list_command(app, ctx, "predictors", "List the registered accuracy predictors",
                   [] { return rows_of(predictors::predictor_registry()); });
  add_list_command(app, ctx, "encodings", "List the registered arch encodings of predictors (\"encoding\", --encoding)",
                   [] { return rows_of(predictors::encoding_registry()); });
  add_list_command(app, ctx, "datasets", "List the registered datasets (--data, an evaluator's \"data\")",
                   [] { return rows_of(data::dataset_registry()); });
  add_list_command(app, ctx, "evaluators", "List the registered evaluators (an experiment's \"evaluator\")",
                   [] { return rows_of(estimate::evaluator_registry()); });
  add_list_command(app, ctx, "cost-models", "List the registered cost models (an experiment's \"cost_models\")",
                   [] { return rows_of(estimate::cost_model_registry()); });
  add_list_command(app, ctx, "exporters", "List the registered exporters (hwnas export --format)",
                   [] { return rows_of(exporting::exporter_registry()); });
  spaces::register_builtin_layer_kinds();
  add_list_command(app, ctx, "layer-kinds", "List the layer kinds the cost models, profiler and latency tables know",
                   [] { return rows_of(cost::layer_kind_registry()); });
}

}  // namespace hwnas::cli
