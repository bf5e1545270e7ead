#include "hwnas/core/stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "hwnas/core/error.h"

namespace hwnas::stats {
namespace {
void check_pair(const std::vector<double>& a, const std::vector<double>& b, size_t min_size) {
  HWNAS_CHECK_T(ConfigError, a.size() == b.size(), "Expected two series of equal length, but got ", a.size(), " and ",
                b.size());
  HWNAS_CHECK_T(ConfigError, a.size() >= min_size, "Expected at least ", min_size, " values, but got ", a.size());
  for (size_t i = 0; i < a.size(); ++i)
    HWNAS_CHECK_T(ConfigError, std::isfinite(a[i]) && std::isfinite(b[i]), "Value ", i, " is not finite");
}

std::vector<double> ranks(const std::vector<double>& v) {
  std::vector<size_t> idx(v.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](size_t i, size_t j) { return v[i] < v[j]; });
  std::vector<double> r(v.size());
  for (size_t i = 0; i < idx.size();) {
    size_t j = i;
    while (j + 1 < idx.size() && v[idx[j + 1]] == v[idx[i]]) ++j;
    const double avg = (static_cast<double>(i) + static_cast<double>(j)) / 2 + 1;
    for (size_t k = i; k <= j; ++k) r[idx[k]] = avg;
    i = j + 1;
  }
  return r;
}
}  // namespace

double kendall_tau(const std::vector<double>& a, const std::vector<double>& b) {
  check_pair(a, b, 2);
  double concordant = 0, discordant = 0, ties_a = 0, ties_b = 0;
  for (size_t i = 0; i < a.size(); ++i)
    for (size_t j = i + 1; j < a.size(); ++j) {
      const double da = a[i] - a[j], db = b[i] - b[j];
      if (da == 0 && db == 0) continue;
      if (da == 0) ++ties_a;
      else if (db == 0) ++ties_b;
      else if ((da > 0) == (db > 0)) ++concordant;
      else ++discordant;
    }
  const double denom = std::sqrt((concordant + discordant + ties_a) * (concordant + discordant + ties_b));
  return denom > 0 ? (concordant - discordant) / denom : 0;
}

double spearman(const std::vector<double>& a, const std::vector<double>& b) {
  check_pair(a, b, 2);
  const auto ra = ranks(a), rb = ranks(b);
  const double n = static_cast<double>(a.size()), mean = (n + 1) / 2;
  double cov = 0, va = 0, vb = 0;
  for (size_t i = 0; i < ra.size(); ++i) {
    cov += (ra[i] - mean) * (rb[i] - mean);
    va += (ra[i] - mean) * (ra[i] - mean);
    vb += (rb[i] - mean) * (rb[i] - mean);
  }
  return va > 0 && vb > 0 ? cov / std::sqrt(va * vb) : 0;
}

double mape(const std::vector<double>& p, const std::vector<double>& y) {
  check_pair(p, y, 1);
  double s = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    HWNAS_CHECK_T(ConfigError, y[i] != 0, "MAPE is undefined: actual value ", i, " is 0");
    s += std::abs(p[i] - y[i]) / std::abs(y[i]);
  }
  return 100 * s / static_cast<double>(p.size());
}

double within(const std::vector<double>& p, const std::vector<double>& y, double percent) {
  check_pair(p, y, 1);
  double n = 0;
  for (size_t i = 0; i < p.size(); ++i) n += std::abs(p[i] - y[i]) <= percent / 100 * std::abs(y[i]) ? 1 : 0;
  return n / static_cast<double>(p.size());
}

double mae(const std::vector<double>& p, const std::vector<double>& y) {
  check_pair(p, y, 1);
  double s = 0;
  for (size_t i = 0; i < p.size(); ++i) s += std::abs(p[i] - y[i]);
  return s / static_cast<double>(p.size());
}

double mean(const std::vector<double>& v) {
  if (v.empty()) return std::nan("");
  double sum = 0;
  for (double x : v) sum += x;
  return sum / static_cast<double>(v.size());
}

double stddev(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double m = mean(v);
  double ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  return std::sqrt(ss / static_cast<double>(v.size() - 1));
}

}  // namespace hwnas::stats
