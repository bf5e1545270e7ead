#include <filesystem>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "hwnas/core/io.h"
#include "hwnas/core/json.h"
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
