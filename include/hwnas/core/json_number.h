#pragma once
// Integers and single-precision floats read from parsed JSON. nlohmann's get<int>()
// converts a float as well: 1.5 becomes 1, and a float beyond the integer's range (2e25) is
// undefined behaviour (found by fuzz_tables); get<float>() of a double beyond float's range
// is undefined behaviour too. json_integer accepts only a number written as an integer,
// within the range of T; json_float only a finite number within float's range. Every such
// number hwnas reads goes through them (scripts/check-json-numbers.sh finds any
// get<int...>() or get<float>() left in the library).
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "hwnas/core/error.h"

namespace hwnas {

/// `j` as T; throws DataError naming `what` unless `j` is an integer within T's range.
template <typename T>
T json_integer(const nlohmann::json& j, const std::string& what) {
  static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>, "json_integer reads integer types");
  constexpr auto lo = std::numeric_limits<T>::min();
  constexpr auto hi = static_cast<uint64_t>(std::numeric_limits<T>::max());
  bool ok = false;
  T out{};
  if (j.is_number_unsigned()) {
    const auto v = j.get<uint64_t>();
    ok = v <= hi;
    out = static_cast<T>(v);
  } else if (j.is_number_integer()) {
    const auto v = j.get<int64_t>();
    ok = v < 0 ? std::is_signed_v<T> && v >= static_cast<int64_t>(lo) : static_cast<uint64_t>(v) <= hi;
    out = static_cast<T>(v);
  }
  HWNAS_CHECK_T(DataError, ok, what, " must be an integer in [", +lo, ", ", hi, "], but is ", j.dump());
  return out;
}

/// `j` as a float; throws DataError naming `what` unless `j` is a finite number within
/// float's range.
inline float json_float(const nlohmann::json& j, const std::string& what) {
  const bool ok = j.is_number() && std::isfinite(j.get<double>()) &&
                  std::abs(j.get<double>()) <= static_cast<double>(std::numeric_limits<float>::max());
  HWNAS_CHECK_T(DataError, ok, what, " must be a finite number within float's range, but is ", j.dump());
  return static_cast<float>(j.get<double>());
}

}  // namespace hwnas
