#include "hwnas/cost/calibration.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>

#include <Eigen/Dense>

#include "hwnas/core/error.h"
#include "hwnas/core/stats.h"

namespace hwnas::cost {

CalibrationReport evaluate_table(const LatencyModel& model, const std::vector<Measurement>& ms) {
  HWNAS_CHECK_T(ConfigError, ms.size() >= 2, "Calibration needs at least 2 measured archs, but got ", ms.size());
  std::vector<double> predicted, measured;
  CalibrationReport r;
  for (const auto& m : ms) {
    predicted.push_back(model.predict(m.arch));
    measured.push_back(m.ms);
    r.worst.push_back({m.arch.str(), predicted.back(), m.ms, 100 * (predicted.back() - m.ms) / m.ms});
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
  std::ifstream in(path);
  HWNAS_CHECK_T(DataError, in.good(), "Cannot read the measurements CSV '", path, "': no such file or not readable");
  // Splits a CSV line, honouring double quotes (arch strings contain commas).
  auto split = [](const std::string& line) {
    std::vector<std::string> out(1);
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      if (c == '"') {
        if (quoted && i + 1 < line.size() && line[i + 1] == '"') {
          out.back() += '"';
          ++i;
        } else {
          quoted = !quoted;
        }
      } else if (c == ',' && !quoted) {
        out.emplace_back();
      } else if (c != '\r') {
        out.back() += c;
      }
    }
    return out;
  };
  std::string line;
  HWNAS_CHECK_T(DataError, static_cast<bool>(std::getline(in, line)), "The measurements CSV '", path, "' is empty");
  const auto header = split(line);
  const auto arch_col = std::find(header.begin(), header.end(), "arch") - header.begin();
  const auto lat_col = std::find(header.begin(), header.end(), column) - header.begin();
  HWNAS_CHECK_T(DataError, arch_col < static_cast<long>(header.size()) && lat_col < static_cast<long>(header.size()),
                "The measurements CSV '", path, "' needs the columns 'arch' and '", column, "' in its header, but has: ", line);
  std::vector<Measurement> out;
  for (int64_t row = 2; std::getline(in, line); ++row) {
    if (line.empty()) continue;
    const auto f = split(line);
    HWNAS_CHECK_T(DataError, f.size() == header.size(), "Measurements CSV '", path, "' line ", row, ": expected ",
                  header.size(), " fields, got ", f.size());
    double ms = 0;
    try {
      size_t used = 0;
      ms = std::stod(f[static_cast<size_t>(lat_col)], &used);
      HWNAS_CHECK_T(DataError, used == f[static_cast<size_t>(lat_col)].size(), "trailing characters");
    } catch (const std::exception&) {
      throw DataError(detail::concat("Measurements CSV '", path, "' line ", row, ": '", f[static_cast<size_t>(lat_col)],
                                     "' is not a number"));
    }
    HWNAS_CHECK_T(DataError, std::isfinite(ms) && ms > 0, "Measurements CSV '", path, "' line ", row,
                  ": latency must be a positive number, but is ", ms);
    try {
      out.push_back({space.parse(f[static_cast<size_t>(arch_col)]), ms});
    } catch (const Error& e) {
      throw DataError(detail::concat("Measurements CSV '", path, "' line ", row, ": ", e.what()));
    }
  }
  HWNAS_CHECK_T(DataError, !out.empty(), "The measurements CSV '", path, "' has no data rows");
  return out;
}

}  // namespace hwnas::cost
