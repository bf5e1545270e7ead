#include <catch2/catch.hpp>

#include "hwnas/core/config.h"
#include "test_util.h"

TEST_CASE("ConfigReader reads typed values with ranges", "[core][config]") {
  nlohmann::json j = {{"a", 3}, {"b", 0.5}, {"c", true}, {"d", "x"}, {"e", {1, 2}}};
  hwnas::ConfigReader r(j, "test config");
  REQUIRE(r.get_int("a", 0, 0, 10) == 3);
  REQUIRE(r.get_double("b", 0, 0, 1) == 0.5);
  REQUIRE(r.get_bool("c", false));
  REQUIRE(r.get_string("d", "", {"x", "y"}) == "x");
  REQUIRE(r.get_int_list("e", {}, 0, 5) == std::vector<int64_t>{1, 2});
  REQUIRE(r.get_int("missing", 42, 0, 100) == 42);
  REQUIRE_NOTHROW(r.finish());
}

TEST_CASE("ConfigReader names the key, the value and what is allowed", "[core][config]") {
  nlohmann::json j = {{"a", 30}, {"b", "zz"}, {"typo", 1}, {"f", "3"}};
  hwnas::ConfigReader r(j, "test config");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, r.get_int("a", 0, 0, 10), "'a'", "[0, 10]", "30");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, r.get_string("b", "", {"x", "y"}), "'zz'", "x, y");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, r.get_int("f", 0, 0, 10), "integer", "\"3\"");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, r.finish(), "Unknown key 'typo'", "valid keys: a, b, f");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, hwnas::ConfigReader(nlohmann::json::array(), "x"),
                          "JSON object");
}

TEST_CASE("parse_json_arg reads inline JSON and @files, with clear errors", "[core][config]") {
  REQUIRE(hwnas::parse_json_arg("{\"a\": 1}", "--cfg")["a"] == 1);
  REQUIRE_THROWS_WITH_ALL(hwnas::ParseError, hwnas::parse_json_arg("{a: 1}", "--cfg"),
                          "--cfg is not valid JSON");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, hwnas::parse_json_arg("@/no/such/file.json", "--cfg"),
                          "/no/such/file.json");
}
