#include <filesystem>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "hwnas/core/io.h"
#include "hwnas/core/json.h"
#include "hwnas/core/json_number.h"
#include "test_util.h"

using hwnas::parse_json;

TEST_CASE("parse_json reads what nlohmann reads", "[core][json]") {
  const auto j = parse_json(R"({"a": [1, 2.5, "x", null, true], "b": {"c": {}}, "u": 18446744073709551615})", "t");
  CHECK(j["a"][1] == 2.5);
  CHECK(j["a"][2] == "x");
  CHECK(j["b"]["c"].is_object());
  CHECK(j["u"].get<uint64_t>() == 18446744073709551615ull);
  CHECK(j == nlohmann::json::parse(R"({"a": [1, 2.5, "x", null, true], "b": {"c": {}}, "u": 18446744073709551615})"));
  CHECK(parse_json("\xEF\xBB\xBF[1]", "bom")[0] == 1);  // a UTF-8 byte-order mark is skipped
  CHECK(parse_json("7", "t") == 7);
}

TEST_CASE("parse_json refuses deep nesting without exhausting the stack", "[core][json]") {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  REQUIRE_THROWS_WITH_ALL(hwnas::ParseError, parse_json(deep, "--space-config"), "--space-config",
                          "nested deeper than 256");
  const std::string objects = [] {
    std::string s;
    for (int i = 0; i < 100000; ++i) s += "{\"k\":";
    return s;
  }();
  REQUIRE_THROWS_WITH_ALL(hwnas::ParseError, parse_json(objects, "cfg.json"), "cfg.json", "256 levels");
  // 256 levels are fine.
  CHECK_NOTHROW(parse_json(std::string(256, '[') + std::string(256, ']'), "t"));
}

TEST_CASE("parse_json refuses duplicate keys and numbers outside double range, naming where", "[core][json]") {
  REQUIRE_THROWS_WITH_ALL(hwnas::ParseError, parse_json(R"({"a": {"b": 1, "b": 2}})", "x.json"), "x.json",
                          "\"b\" appears twice", "'/a'");
  REQUIRE_THROWS_WITH_ALL(hwnas::ParseError, parse_json(R"({"lr": [0.1, 1e400]})", "x.json"), "1e400", "'/lr/1'",
                          "outside the range of a double");
  REQUIRE_THROWS_WITH_ALL(hwnas::ParseError, parse_json("-1e999", "x"), "-1e999");
  REQUIRE_THROWS_WITH_ALL(hwnas::ParseError, parse_json("{\"a\": 1,\n \"b\": }", "y.json"), "y.json",
                          "is not valid JSON", "line 2");
  REQUIRE_THROWS_WITH_ALL(hwnas::ParseError, parse_json("", "empty text"), "empty text is not valid JSON");
}

TEST_CASE("read_json_file names directories, missing and empty files", "[core][json]") {
  const auto dir = hwnas::test::temp_dir("json_files");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, hwnas::read_json_file(dir, "latency table"), dir, "is a directory");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, hwnas::read_json_file(dir + "/none.json", "latency table"), "none.json",
                          "no such file");
  hwnas::write_file_atomic(dir + "/empty.json", "  \n");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, hwnas::read_json_file(dir + "/empty.json", "latency table"), "empty.json",
                          "is empty");
  hwnas::write_file_atomic(dir + "/ok.json", R"({"a": 1})");
  CHECK(hwnas::read_json_file(dir + "/ok.json", "x")["a"] == 1);
}

TEST_CASE("json_integer and json_float read only numbers that fit", "[core][json]") {
  const auto j = hwnas::parse_json(R"({"i": 7, "neg": -3, "big": 18446744073709551615, "f": 1.5, "huge": 2e25,
                                      "two": 2.0, "s": "7", "d": 1e300})", "test");
  CHECK(hwnas::json_integer<int>(j["i"], "i") == 7);
  CHECK(hwnas::json_integer<int64_t>(j["neg"], "neg") == -3);
  CHECK(hwnas::json_integer<uint64_t>(j["big"], "big") == 18446744073709551615ull);
  // A float is no integer, even an integral one; out of range is refused, not wrapped.
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, hwnas::json_integer<int>(j["huge"], "\"version\""), "\"version\"",
                          "must be an integer", "2e+25");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, hwnas::json_integer<int>(j["two"], "two"), "two", "2.0");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, hwnas::json_integer<int>(j["f"], "f"), "1.5");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, hwnas::json_integer<int64_t>(j["big"], "big"), "18446744073709551615");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, hwnas::json_integer<uint32_t>(j["neg"], "neg"), "-3");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, hwnas::json_integer<int>(j["s"], "s"), "\"7\"");
  CHECK(hwnas::json_float(j["f"], "f") == 1.5f);
  CHECK(hwnas::json_float(j["i"], "i") == 7.0f);
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, hwnas::json_float(j["d"], "d"), "d", "float's range");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, hwnas::json_float(j["s"], "s"), "finite number");
}
