#include <catch2/catch.hpp>

#include "hwnas/cost/analytic.h"
#include "test_util.h"

using hwnas::LayerSpec;
using hwnas::cost::layer_cost;

TEST_CASE("Analytic costs follow the layer formulas", "[cost][analytic]") {
  // conv 3x3, 16->32, stride 2 at 32x32 -> 16x16, groups 1, plus BN.
  auto c = layer_cost(LayerSpec("conv_bn", {16, 32, 32}, {32, 16, 16}, {{"k", 3}, {"s", 2}}));
  REQUIRE(c.params == 32 * 16 * 9 + 2 * 32);
  REQUIRE(c.macs == 32 * 16 * 16 * 16 * 9);
  // Depthwise (groups = channels).
  auto dw = layer_cost(LayerSpec("conv_bn", {32, 8, 8}, {32, 8, 8}, {{"k", 5}, {"s", 1}, {"g", 32}}));
  REQUIRE(dw.params == 32 * 25 + 64);
  REQUIRE(dw.macs == 32 * 64 * 25);
  auto fc = layer_cost(LayerSpec("linear", {64, 1, 1}, {10, 1, 1}, {{"bias", 1}}));
  REQUIRE(fc.params == 650);
  REQUIRE(fc.macs == 640);
  REQUIRE(layer_cost(LayerSpec("avg_pool", {16, 8, 8}, {16, 8, 8}, {{"k", 3}})).params == 0);
  REQUIRE(layer_cost(LayerSpec("bn_relu", {64, 8, 8}, {64, 8, 8})).params == 128);
  auto total = hwnas::cost::network_cost({LayerSpec("linear", {64, 1, 1}, {10, 1, 1}),
                                          LayerSpec("bn_relu", {64, 8, 8}, {64, 8, 8})});
  REQUIRE(total.params == 650 + 128);
  REQUIRE(total.layers.size() == 2);
}

TEST_CASE("Analytic costs refuse unknown kinds, listing the known ones", "[cost][analytic]") {
  REQUIRE_THROWS_WITH_ALL(hwnas::NotFoundError, layer_cost(LayerSpec("warp_drive", {1, 1, 1}, {1, 1, 1})),
                          "'warp_drive'", "relu_conv_bn");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError,
                          layer_cost(LayerSpec("conv_bn", {3, 8, 8}, {4, 8, 8}, {{"k", 3}, {"g", 2}})),
                          "groups must divide");
}

TEST_CASE("counts that would overflow 64 bits are refused, not wrapped", "[cost][analytic]") {
  // 2^52 activations in one layer.
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError,
                          layer_cost(LayerSpec("conv_bn", {1 << 20, 1 << 16, 1 << 16}, {16, 8, 8}, {{"k", 3}}, "huge")),
                          "'huge'", "2^50");
  // Each layer fits, the sum of MACs does not.
  std::vector<LayerSpec> many(1000, LayerSpec("conv_bn", {4096, 4096, 4096}, {4096, 4096, 4096}, {{"k", 7}}, "wide"));
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, hwnas::cost::network_cost(many), "overflows 64 bits", "'wide'");
}
