#include <catch2/catch.hpp>

#include "hwnas/core/error.h"
#include "hwnas/experiment/runner.h"
#include "hwnas/oneshot/differentiable.h"
#include "hwnas/oneshot/method.h"
#include "hwnas/search_spaces/registry.h"
#include "test_util.h"

using namespace hwnas;

TEST_CASE("the one-shot method registry holds the differentiable methods, made from an experiment's context",
          "[oneshot][registry]") {
  auto& registry = oneshot::method_registry();
  CHECK(registry.names() == std::vector<std::string>{"darts", "fbnet", "gdas", "pcdarts", "proxyless"});
  oneshot::MethodContext context;
  context.space = make_space("nb201", {{"channels", 4}, {"cells_per_stage", 1}});
  context.seed = 3;
  auto gdas = registry.create("gdas", {{"epochs", 2}}, context);
  CHECK(gdas->name() == "gdas");
  CHECK(gdas->epochs() == 2);
  CHECK(gdas->epoch() == 0);
  CHECK(gdas->reports().empty());
  // The seed and checkpoint come from the context, not the config.
  REQUIRE_THROWS_WITH_ALL(ConfigError, registry.create("darts", {{"seed", 1}}, context), "strategy darts",
                          "\"seed\" and \"checkpoint\" come from the experiment");
  // A hardware loss without a latency model in the context says so.
  REQUIRE_THROWS_WITH_ALL(ConfigError,
                          registry.create("fbnet", {{"hardware", {{"form", "hinge"}, {"target_ms", 1.0}}}}, context),
                          "hinge hardware loss needs a latency model");
  REQUIRE_THROWS_WITH_ALL(NotFoundError, registry.create("annealing", {}, context), "Unknown one-shot method",
                          "darts", "proxyless");
}

TEST_CASE("an experiment naming an unknown strategy lists the ask/tell and the one-shot ones", "[oneshot][experiment]") {
  const auto c = experiment::ExperimentConfig()
                     .space("nb201")
                     .strategy("annealing")
                     .objectives({{"params", strategy::Direction::kMinimize}})
                     .output(test::temp_dir("unknown_strategy"));
  REQUIRE_THROWS_WITH_ALL(NotFoundError, experiment::Experiment{c}, "Unknown strategy 'annealing'", "evolution",
                          "rl (ask/tell)", "darts", "proxyless (one-shot)");
}
