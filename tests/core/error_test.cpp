#include <catch2/catch.hpp>

#include "hwnas/core/error.h"
#include "test_util.h"

TEST_CASE("HWNAS_CHECK throws hwnas::Error with the concatenated message", "[core][error]") {
  const int k = -3;
  REQUIRE_THROWS_WITH_ALL(hwnas::Error, [&] { HWNAS_CHECK(k > 0, "Expected k > 0, but got ", k); }(),
                          "Expected k > 0, but got -3");
  REQUIRE_NOTHROW([&] { HWNAS_CHECK(k < 0, "never"); }());
}

TEST_CASE("HWNAS_CHECK_T throws the given error type", "[core][error]") {
  REQUIRE_THROWS_AS([] { HWNAS_CHECK_T(hwnas::ParseError, false, "bad"); }(), hwnas::ParseError);
  // Every typed error is an hwnas::Error, so the CLI can catch them in one place.
  REQUIRE_THROWS_AS([] { HWNAS_CHECK_T(hwnas::DataError, false, "bad"); }(), hwnas::Error);
}

TEST_CASE("HWNAS_INTERNAL_ASSERT reports a bug, not a user error", "[core][error]") {
  REQUIRE_THROWS_WITH_ALL(hwnas::InternalError, [] { HWNAS_INTERNAL_ASSERT(1 + 1 == 3, "math"); }(),
                          "this is a bug", "1 + 1 == 3", "math", "error_test.cpp");
  // An internal error is deliberately not an hwnas::Error.
  bool caught_as_user_error = false;
  try {
    HWNAS_INTERNAL_ASSERT(false);
  } catch (const hwnas::Error&) {
    caught_as_user_error = true;
  } catch (const hwnas::InternalError&) {
  }
  REQUIRE_FALSE(caught_as_user_error);
}
