#include <catch2/catch.hpp>

#include "hwnas/core/search_space.h"
#include "hwnas/search_spaces/registry.h"
#include "test_util.h"

namespace {
struct Thing {
  explicit Thing(int v) : value(v) {}
  int value;
};
}  // namespace

TEST_CASE("Registry creates by name and lists names", "[core][registry]") {
  hwnas::Registry<Thing> reg("thing");
  reg.add("b-thing", "second", [](const nlohmann::json& c) {
    return std::make_unique<Thing>(c.value("v", 2));
  });
  reg.add("a_thing", "first", [](const nlohmann::json&) { return std::make_unique<Thing>(1); });
  REQUIRE(reg.names() == std::vector<std::string>{"a_thing", "b-thing"});
  REQUIRE(reg.create("a_thing")->value == 1);
  REQUIRE(reg.create("b-thing", {{"v", 5}})->value == 5);
  REQUIRE(reg.entry("b-thing").description == "second");
  REQUIRE(reg.contains("a_thing"));
  REQUIRE_FALSE(reg.contains("c"));
}

TEST_CASE("Registry::add_value registers a value each create() copies", "[core][registry]") {
  hwnas::Registry<Thing> reg("thing");
  reg.add_value("seven", "a fixed thing", Thing(7));
  auto a = reg.create("seven");
  a->value = 8;  // a copy: the registered value stays
  REQUIRE(reg.create("seven")->value == 7);
  REQUIRE(reg.entry("seven").description == "a fixed thing");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, reg.add_value("seven", "", Thing(1)), "already registered", "seven");
}

TEST_CASE("Registry errors list the valid names", "[core][registry]") {
  hwnas::Registry<Thing> reg("thing");
  auto f = [](const nlohmann::json&) { return std::make_unique<Thing>(0); };
  reg.add("one", "", f);
  reg.add("two", "", f);
  REQUIRE_THROWS_WITH_ALL(hwnas::NotFoundError, reg.create("three"), "Unknown thing 'three'",
                          "valid names: one, two");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, reg.add("one", "", f), "already registered", "one, two");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, reg.add("Bad Name", "", f), "Invalid thing name");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, reg.create("one", nlohmann::json::array()),
                          "must be a JSON object");
}

TEST_CASE("The space registry holds the built-in spaces", "[core][registry]") {
  auto names = hwnas::space_registry().names();
  REQUIRE(std::find(names.begin(), names.end(), "nb201") != names.end());
  REQUIRE_THROWS_WITH_ALL(hwnas::NotFoundError, hwnas::make_space("nope"), "Unknown search space 'nope'",
                          "nb201");
}
