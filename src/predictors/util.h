#pragma once
// Helpers shared by the built-in predictors (not installed).
#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>
#include <vector>

#include <Eigen/Dense>
#include <nlohmann/json.hpp>

#include "hwnas/core/error.h"
#include "hwnas/predictors/predictor.h"

namespace hwnas::predictors {

/// The features as a double matrix.
inline Eigen::MatrixXd to_matrix(const predictors::Features& x) {
  Eigen::MatrixXd m(x.rows, x.cols);
  for (int64_t i = 0; i < x.rows; ++i)
    for (int64_t j = 0; j < x.cols; ++j) m(i, j) = x.row(i)[j];
  return m;
}

/// A finite number field of a predictor state.
inline double read_number(const nlohmann::json& s, const std::string& key) {
  HWNAS_CHECK_T(DataError, s.is_object() && s.contains(key) && s[key].is_number(),
                "predictor state: missing or non-numeric \"", key, "\"");
  const double v = s[key].get<double>();
  HWNAS_CHECK_T(DataError, std::isfinite(v), "predictor state: \"", key, "\" is not finite");
  return v;
}

/// An array of finite numbers; `expected` < 0 accepts any length.
inline std::vector<double> read_vector(const nlohmann::json& s, const std::string& key,
                                       int64_t expected) {
  HWNAS_CHECK_T(DataError, s.is_object() && s.contains(key) && s[key].is_array(),
                "predictor state: missing array \"", key, "\"");
  std::vector<double> v;
  v.reserve(s[key].size());
  for (size_t i = 0; i < s[key].size(); ++i) {
    const auto& e = s[key][i];
    HWNAS_CHECK_T(DataError, e.is_number() && std::isfinite(e.get<double>()), "predictor state: \"",
                  key, "\"[", i, "] is not a finite number");
    v.push_back(e.get<double>());
  }
  HWNAS_CHECK_T(DataError, expected < 0 || static_cast<int64_t>(v.size()) == expected,
                "predictor state: \"", key, "\" has ", v.size(), " values, expected ", expected);
  return v;
}

/// Mean and standard deviation (at least 1e-12) of the targets, for standardising them.
inline std::pair<double, double> mean_std(const std::vector<double>& y) {
  double m = 0;
  for (double v : y) m += v;
  m /= static_cast<double>(y.size());
  double var = 0;
  for (double v : y) var += (v - m) * (v - m);
  var /= static_cast<double>(y.size());
  return {m, std::max(std::sqrt(var), 1e-12)};
}

}  // namespace hwnas::predictors
