#include "hwnas/cost/calibration.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>

#include <Eigen/Dense>

#include "hwnas/core/arch_table.h"
#include "hwnas/core/error.h"
#include "hwnas/core/stats.h"

namespace hwnas::cost {

nlohmann::json CalibrationReport::to_json() const {
  nlohmann::json cases = nlohmann::json::array();
  for (const auto& w : worst)
    cases.push_back({{"arch", w.arch}, {"predicted_ms", w.predicted}, {"measured_ms", w.measured}, {"error_percent", w.error_percent}});
  return {{"n", n}, {"mape", mape}, {"within5", within5}, {"within10", within10},
          {"kendall_tau", kendall_tau}, {"spearman", spearman}, {"worst", cases}};
}

CalibrationReport evaluate_table(const LatencyModel& model, const std::vector<Measurement>& ms) {
  HWNAS_CHECK_T(ConfigError, ms.size() >= 2, "Calibration needs at least 2 measured archs, but got ", ms.size());
  std::vector<double> predicted;
  for (const auto& m : ms) predicted.push_back(model.predict(m.arch));
  return evaluate_predictions(predicted, ms);
}

CalibrationReport evaluate_predictions(const std::vector<double>& predicted, const std::vector<Measurement>& ms) {
  HWNAS_CHECK_T(ConfigError, ms.size() >= 2, "Calibration needs at least 2 measured archs, but got ", ms.size());
  HWNAS_CHECK_T(ConfigError, predicted.size() == ms.size(), predicted.size(), " predictions for ", ms.size(), " measurements");
  std::vector<double> measured;
  CalibrationReport r;
  for (size_t i = 0; i < ms.size(); ++i) {
    measured.push_back(ms[i].ms);
    r.worst.push_back({ms[i].arch.str(), predicted[i], ms[i].ms, 100 * (predicted[i] - ms[i].ms) / ms[i].ms});
  }
  r.n = static_cast<int64_t>(ms.size());
  r.mape = stats::mape(predicted, measured);
  r.within5 = stats::within(predicted, measured, 5);
  r.within10 = stats::within(predicted, measured, 10);
  r.kendall_tau = stats::kendall_tau(predicted, measured);
  r.spearman = stats::spearman(predicted, measured);
  std::sort(r.worst.begin(), r.worst.end(),
            [](const auto& a, const auto& b) { return std::abs(a.error_percent) > std::abs(b.error_percent); });
  if (r.worst.size() > 5) r.worst.resize(5);
  return r;
}

void fit_calibration(LatencyTable& table, const std::shared_ptr<const SearchSpace>& space,
                     const std::vector<Measurement>& ms, double ridge, const LatencyOptions& options) {
  HWNAS_CHECK_T(ConfigError, ms.size() >= 3, "Fitting a calibration needs at least 3 measured archs, but got ", ms.size());
  HWNAS_CHECK_T(ConfigError, ridge >= 0, "Expected a ridge weight >= 0, but got ", ridge);
  auto raw = std::make_shared<LatencyTable>(table);
  raw->calibrated = false;
  LatencyModel model(raw, space, LatencyOptions(options).use_calibration(false));
  std::vector<std::map<std::string, double>> sums, counts;
  std::set<std::string> kinds;
  for (const auto& m : ms) {
    sums.push_back(model.by_kind(m.arch));
    counts.push_back(model.count_by_kind(m.arch));
    for (const auto& [k, v] : sums.back())
      if (k != "overhead") kinds.insert(k);
  }
  // Per kind k: measured ~ offset + sum_k scale_k * table_sum_k + per_layer_k * count_k.
  // A ridge pulls every scale towards 1 and every per-layer term towards 0, each weighted
  // by the magnitude of its feature, so kinds the archs barely vary stay near the table.
  const std::vector<std::string> cols(kinds.begin(), kinds.end());
  const auto n = static_cast<Eigen::Index>(ms.size()), p = static_cast<Eigen::Index>(cols.size());
  Eigen::MatrixXd A = Eigen::MatrixXd::Zero(n + 2 * p, 2 * p + 1);
  Eigen::VectorXd y = Eigen::VectorXd::Zero(n + 2 * p);
  auto get = [](const std::map<std::string, double>& m, const std::string& k) {
    auto it = m.find(k);
    return it == m.end() ? 0.0 : it->second;
  };
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index c = 0; c < p; ++c) {
      A(i, c) = get(sums[static_cast<size_t>(i)], cols[static_cast<size_t>(c)]);
      A(i, p + c) = get(counts[static_cast<size_t>(i)], cols[static_cast<size_t>(c)]);
    }
    A(i, 2 * p) = 1;
    y(i) = ms[static_cast<size_t>(i)].ms - table.overhead_ms;
  }
  for (Eigen::Index c = 0; c < 2 * p; ++c) {
    const double w = std::sqrt(ridge) * (A.col(c).head(n).norm() + 1e-12);
    A(n + c, c) = w;
    y(n + c) = c < p ? w : 0.0;
  }
  const Eigen::VectorXd x = A.colPivHouseholderQr().solve(y);
  HWNAS_CHECK(x.allFinite(), "The calibration fit failed (non-finite solution); measure more archs");
  table.calibrated = true;
  table.calibration_metric = options.metric();
  table.calibration_scale.clear();
  table.calibration_per_layer.clear();
  for (Eigen::Index c = 0; c < p; ++c) {
    table.calibration_scale[cols[static_cast<size_t>(c)]] = x(c);
    table.calibration_per_layer[cols[static_cast<size_t>(c)]] = x(p + c);
  }
  table.calibration_offset_ms = x(2 * p);
}

std::vector<Measurement> read_measurements_csv(const std::string& path, const SearchSpace& space, const std::string& column) {
  const auto table = read_arch_table(path, space);
  const auto ms = table.column(column);
  std::vector<Measurement> out;
  for (size_t r = 0; r < table.size(); ++r) {
    HWNAS_CHECK_T(DataError, ms[r] > 0, "Measurements file '", path, "' line ", table.lines[r],
                  ": latency must be a positive number, but is ", ms[r]);
    out.push_back({table.archs[r], ms[r]});
  }
  return out;
}

}  // namespace hwnas::cost
