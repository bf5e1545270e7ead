#include <catch2/catch.hpp>

#include <unordered_set>

#include "hwnas/core/search_space.h"
#include "hwnas/search_spaces/registry.h"
#include "test_util.h"

TEST_CASE("Arch JSON round-trips through its space", "[core][arch]") {
  auto space = hwnas::make_space("nb201");
  hwnas::Rng rng(5);
  for (int i = 0; i < 50; ++i) {
    auto arch = space->sample(rng);
    auto j = arch.to_json();
    REQUIRE(j["space"] == "nb201");
    REQUIRE(j["arch"] == arch.str());
    auto back = space->from_json(nlohmann::json::parse(j.dump()));
    REQUIRE(back == arch);
    REQUIRE(back.str() == arch.str());
    REQUIRE(space->from_json(arch.str()) == arch);  // a plain string works too
  }
}

TEST_CASE("Arch equality and hashing follow the genes and space", "[core][arch]") {
  auto space = hwnas::make_space("nb201");
  auto a = space->make({3, 3, 3, 3, 3, 3});
  auto b = space->parse(a.str());
  auto c = space->make({3, 3, 3, 3, 3, 2});
  REQUIRE(a == b);
  REQUIRE(a != c);
  REQUIRE(std::hash<hwnas::Arch>{}(a) == std::hash<hwnas::Arch>{}(b));
  std::unordered_set<hwnas::Arch> set{a, b, c};
  REQUIRE(set.size() == 2);
  REQUIRE(hwnas::Arch().empty());
}

TEST_CASE("Arch JSON that disagrees with itself or the space is refused", "[core][arch]") {
  auto space = hwnas::make_space("nb201");
  auto arch = space->make({3, 3, 3, 3, 3, 3});
  auto j = arch.to_json();
  j["genes"] = {0, 0, 0, 0, 0, 0};
  REQUIRE_THROWS_WITH_ALL(hwnas::ParseError, space->from_json(j), "disagree");
  j = arch.to_json();
  j["space"] = "darts";
  REQUIRE_THROWS_WITH_ALL(hwnas::InvalidArchError, space->from_json(j), "space 'nb201'", "darts");
  REQUIRE_THROWS_WITH_ALL(hwnas::ParseError, space->from_json(nlohmann::json{{"x", 1}}), "\"arch\"");
  REQUIRE_THROWS_WITH_ALL(hwnas::InvalidArchError, space->validate(hwnas::Arch()), "empty arch");
  hwnas::Arch foreign("other", {0}, "x");
  REQUIRE_FALSE(space->is_valid(foreign));
  REQUIRE_THROWS_WITH_ALL(hwnas::InvalidArchError, space->layers(foreign), "space 'other'");
}
