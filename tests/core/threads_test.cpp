#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "hwnas/core/error.h"
#include "hwnas/core/threads.h"

TEST_CASE("parallel_indexed runs every index once on any number of threads", "[core][threads]") {
  for (const int threads : {0, 1, 2, 7}) {
    for (const int64_t n : {0, 1, 5, 1000}) {
      std::vector<std::atomic<int>> calls(static_cast<size_t>(n));
      hwnas::parallel_indexed(n, threads, [&](int64_t i) { ++calls[static_cast<size_t>(i)]; });
      for (const auto& c : calls) CHECK(c.load() == 1);
    }
  }
  REQUIRE_THROWS_AS(hwnas::parallel_indexed(3, -1, [](int64_t) {}), hwnas::ConfigError);
}

TEST_CASE("parallel_indexed finishes every item and rethrows the lowest index's error", "[core][threads]") {
  // Items 3 and 40 fail; whatever the timing, the error of 3 comes out, after all ran.
  for (int attempt = 0; attempt < 20; ++attempt) {
    std::atomic<int> ran{0};
    try {
      hwnas::parallel_indexed(64, 2, [&](int64_t i) {
        ++ran;
        if (i == 40 || i == 3) throw std::runtime_error("item " + std::to_string(i));
      });
      FAIL("no exception");
    } catch (const std::runtime_error& e) {
      CHECK(std::string(e.what()) == "item 3");
    }
    CHECK(ran.load() == 64);
  }
}
