#include <catch2/catch.hpp>

#include "hwnas/core/stats.h"
#include "test_util.h"

using namespace hwnas::stats;

TEST_CASE("Rank correlations and errors match hand-computed values", "[core][stats]") {
  const std::vector<double> a{1, 2, 3, 4, 5};
  REQUIRE(kendall_tau(a, {2, 4, 6, 8, 10}) == Approx(1.0));
  REQUIRE(kendall_tau(a, {5, 4, 3, 2, 1}) == Approx(-1.0));
  // One swapped pair of 10: (9 - 1) / 10.
  REQUIRE(kendall_tau(a, {1, 2, 3, 5, 4}) == Approx(0.8));
  REQUIRE(spearman(a, {1, 2, 3, 5, 4}) == Approx(1 - 6.0 * 2 / (5 * 24)));
  // Ties use tau-b and average ranks.
  REQUIRE(kendall_tau({1, 1, 2}, {1, 2, 3}) == Approx(2 / std::sqrt(2.0 * 3)));
  REQUIRE(spearman({1, 1, 2}, {1, 2, 3}) == Approx(0.8660254).epsilon(1e-6));
  REQUIRE(mape({110, 90}, {100, 100}) == Approx(10.0));
  REQUIRE(within({104, 120, 95}, {100, 100, 100}, 5) == Approx(2.0 / 3));
  REQUIRE(mae({1, 3}, {2, 2}) == Approx(1.0));
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, kendall_tau({1}, {1, 2}), "equal length");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, mape({1}, {0}), "actual value 0 is 0");
}
