#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "experiment/record_json.h"
#include "hwnas/core/random.h"
#include "hwnas/core/search_space.h"
#include "hwnas/search_spaces/registry.h"

using namespace hwnas;

TEST_CASE("A log line is the record's JSON document, written directly", "[experiment]") {
  // Every number reads back exactly as the document's.
  auto space = make_space("nb201");
  Rng rng(5);
  const double inf = std::numeric_limits<double>::infinity();
  // Values as searches produce them, and the awkward ones: whole numbers, tiny and huge
  // magnitudes, negative zero, non-finite (null).
  const std::vector<double> special{0.0, -0.0, 1.0, 2.0, 0.1, 1e-5, 1e-4, 123456.0, 1e15, 1e16, 1e21, -3.25e-300,
                                    5e-324, 1.7976931348623157e308, std::nan(""), inf, -inf};
  for (int n = 0; n < 400; ++n) {
    experiment::Record r;
    r.index = n;
    r.batch = n / 7;
    r.arch = space->sample(rng);
    auto value = [&](int k) {
      if (k % 3 == 0) return special[static_cast<size_t>(rng.uniform_int(static_cast<int64_t>(special.size())))];
      return (rng.uniform() - 0.3) * std::pow(10.0, static_cast<double>(rng.uniform_int(40)) - 20);
    };
    r.metrics = {{"val_accuracy", value(n)}, {"latency@note10", value(n + 1)}, {"params", 55218}, {"macs", value(n + 2)}};
    r.objectives = {r.metrics["val_accuracy"], r.metrics["latency@note10"]};
    r.violation = n % 4 == 0 ? 0.0 : value(n + 3);
    r.time_s = rng.uniform() * 100;
    if (n % 5 == 0) r.error = "objective 'val_accuracy' is nan; \"quoted\" \\ and\ttab, é";
    std::string line;
    experiment::append_record_line(line, r);
    REQUIRE(line.back() == '\n');
    const auto expected = experiment::record_to_json(r);
    INFO(line);
    // The same keys, strings and exactly the same numbers as the document as nlohmann writes it.
    REQUIRE(nlohmann::json::parse(line) == nlohmann::json::parse(expected.dump()));
  }
  // The same bytes for the numbers of real searches and at the layout's edges (the last of
  // 17 digits may differ where nlohmann's Grisu2 does not pick the closest digits).
  for (double v : {0.8205, 24.99, 55218.0, 0.1 + 0.2, 1e-5, 1e-4, 0.00012345, 1e21, -0.0, 0.0, 1e15, 1e16,
                   4935818064661954.0, 123456789012345.6, -2.8017466071567025e-17, 5e-324, 1.7976931348623157e308}) {
    experiment::Record r;
    r.arch = space->sample(rng);
    r.metrics = {{"m", v}};
    r.objectives = {v};
    r.violation = std::abs(v);
    std::string line;
    experiment::append_record_line(line, r);
    REQUIRE(line == experiment::record_to_json(r).dump() + "\n");
  }
  // Keys in nlohmann's order, whole numbers as 1.0.
  experiment::Record r;
  r.arch = space->sample(rng);
  r.metrics = {{"b", 1.0}, {"a", 2.5}};
  r.objectives = {1.0};
  std::string line;
  experiment::append_record_line(line, r);
  REQUIRE(line == experiment::record_to_json(r).dump() + "\n");
  REQUIRE(line.find(R"("metrics":{"a":2.5,"b":1.0},"objectives":[1.0])") != std::string::npos);
}
