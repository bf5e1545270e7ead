#include <catch2/catch.hpp>

#include "hwnas/core/layer_spec.h"
#include "test_util.h"

using hwnas::LayerSpec;
using hwnas::Shape;

TEST_CASE("LayerSpec key is canonical: attributes sorted, name excluded", "[core][layer_spec]") {
  LayerSpec a("relu_conv_bn", {16, 32, 32}, {16, 32, 32}, {{"s", 1}, {"k", 3}}, "cell0.edge");
  LayerSpec b("relu_conv_bn", {16, 32, 32}, {16, 32, 32}, {{"k", 3}, {"s", 1}}, "elsewhere");
  REQUIRE(a.key() == "relu_conv_bn-in:16x32x32-out:16x32x32-k:3-s:1");
  REQUIRE(a.key() == b.key());
  REQUIRE(a.attr("k") == 3);
  REQUIRE(a.attr_or("g", 1) == 1);
  REQUIRE_THROWS_WITH_ALL(hwnas::NotFoundError, a.attr("g"), "no attribute 'g'", a.key());
}

TEST_CASE("Shape prints and parses CxHxW", "[core][layer_spec]") {
  REQUIRE(Shape{3, 32, 32}.str() == "3x32x32");
  REQUIRE(Shape::parse("1x28x28") == Shape{1, 28, 28});
  REQUIRE(Shape{3, 32, 32}.numel() == 3072);
  REQUIRE_THROWS_WITH_ALL(hwnas::ParseError, Shape::parse("3x32"), "'3x32'", "character 5");
  REQUIRE_THROWS_WITH_ALL(hwnas::ParseError, Shape::parse("3x32x32x"), "stray characters");
  REQUIRE_THROWS_WITH_ALL(hwnas::ParseError, Shape::parse("0x32x32"), "zero");
  REQUIRE_THROWS_WITH_ALL(hwnas::ParseError, Shape::parse("ax32x32"), "no number at character 1");
}
