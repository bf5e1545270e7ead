#pragma once
// Agreement statistics between predictions and measurements.
#include <vector>

namespace hwnas::stats {

/// Kendall's tau-b (ties handled), in [-1, 1]. O(n^2).
double kendall_tau(const std::vector<double>& a, const std::vector<double>& b);
/// Spearman's rank correlation (average ranks for ties), in [-1, 1].
double spearman(const std::vector<double>& a, const std::vector<double>& b);
/// Mean absolute percentage error of `predicted` against `actual`, in percent.
double mape(const std::vector<double>& predicted, const std::vector<double>& actual);
/// Share (0..1) of predictions within +-`percent` of the actual value.
double within(const std::vector<double>& predicted, const std::vector<double>& actual, double percent);
/// Mean absolute error.
double mae(const std::vector<double>& predicted, const std::vector<double>& actual);
/// Arithmetic mean (NaN for no values).
double mean(const std::vector<double>& v);
/// Sample standard deviation (n - 1 in the denominator; 0 for fewer than two values).
double stddev(const std::vector<double>& v);

}  // namespace hwnas::stats
