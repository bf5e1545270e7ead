#include <catch2/catch.hpp>

#include "hwnas/cost/analytic.h"
#include "hwnas/cost/layer_kind.h"
#include "hwnas/cost/profiler.h"
#include "hwnas/search_spaces/registry.h"
#include "test_util.h"

using hwnas::LayerSpec;
using hwnas::cost::LayerCost;
using hwnas::cost::LayerKind;

TEST_CASE("A registered layer kind is costed and profiled like a built-in", "[cost][layer_kind]") {
  int runs = 0;
  LayerKind kind;
  kind.cost = [](const LayerSpec& l) { return LayerCost{3 * l.input.c, 7 * l.output.numel()}; };
  kind.intermediate = [](const LayerSpec& l) { return 2 * l.input.numel(); };
  kind.build_runner = [&runs](const LayerSpec&, int64_t batch) -> hwnas::cost::LayerRun {
    REQUIRE(batch == 2);
    return [&runs] { ++runs; };
  };
  hwnas::cost::register_layer_kind("test_kind_a", "A kind of this test", kind);
  const LayerSpec l("test_kind_a", {4, 5, 5}, {4, 5, 5});
  const auto c = hwnas::cost::layer_cost(l);
  CHECK(c.params == 12);
  CHECK(c.macs == 700);
  CHECK(c.activations == 100 + 100 + 200);
  hwnas::cost::layer_runner(l, 2)();
  CHECK(runs == 1);
  CHECK(hwnas::cost::network_cost({l, LayerSpec("linear", {4, 1, 1}, {2, 1, 1})}).params == 12 + 10);
}

TEST_CASE("Layer kinds refuse duplicates, missing costs and unknown kinds by name", "[cost][layer_kind]") {
  LayerKind kind;
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, hwnas::cost::register_layer_kind("test_kind_b", "no cost", kind),
                          "'test_kind_b'", "LayerKind::cost");
  kind.cost = [](const LayerSpec&) { return LayerCost{}; };
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, hwnas::cost::register_layer_kind("conv_bn", "again", kind),
                          "'conv_bn'", "already registered");
  hwnas::cost::register_layer_kind("test_kind_b", "costed, not profiled", kind);
  REQUIRE_THROWS_WITH_ALL(hwnas::NotFoundError, hwnas::cost::layer_runner(LayerSpec("test_kind_b", {1, 1, 1}, {1, 1, 1}), 1),
                          "'test_kind_b' cannot be profiled", "build_runner");
  REQUIRE_THROWS_WITH_ALL(hwnas::NotFoundError, hwnas::cost::layer_cost(LayerSpec("warp", {1, 1, 1}, {1, 1, 1})),
                          "Unknown layer kind 'warp'", "test_kind_b", "layer_kind_registry");
}

TEST_CASE("The built-in spaces register their kinds when a space is made", "[cost][layer_kind]") {
  auto space = hwnas::make_space("darts");  // any built-in space registers them all
  for (const char* k : {"mbconv", "nb201_resblock", "sep_conv", "dil_conv", "factorized_reduce", "darts_aux_head"})
    CHECK(hwnas::cost::layer_kind_registry().contains(k));
  CHECK(hwnas::cost::key_format_registry().contains("ofa"));
  CHECK(hwnas::cost::key_format_registry().shared("hwnas")->parses_back);
}
