#pragma once
// Calibration: does a latency table predict whole networks on its device? Compares the
// table's sums with whole-network measurements, and fits a correction (per layer kind a
// scale on its table sum and a fixed cost per layer, plus a per-network offset, by
// regularised least squares) that is stored in the table.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwnas/core/arch.h"
#include "hwnas/cost/latency_table.h"

namespace hwnas::cost {

struct Measurement {
  Arch arch;
  double ms = 0;
};

struct CalibrationReport {
  int64_t n = 0;
  double mape = 0;       // percent
  double within5 = 0;    // share within +-5%
  double within10 = 0;   // share within +-10%
  double kendall_tau = 0;
  double spearman = 0;
  struct Case {
    std::string arch;
    double predicted = 0, measured = 0, error_percent = 0;
  };
  std::vector<Case> worst;  // largest relative errors first (up to 5)

  /// {"n", "mape", "within5", "within10", "kendall_tau", "spearman", "worst": [{"arch",
  /// "predicted_ms", "measured_ms", "error_percent"}]}
  nlohmann::json to_json() const;
};

/// Metrics of `model`'s predictions against the measurements.
CalibrationReport evaluate_table(const LatencyModel& model, const std::vector<Measurement>& measurements);
/// The same metrics for any predictions (e.g. a learned latency model), one per measurement.
CalibrationReport evaluate_predictions(const std::vector<double>& predicted, const std::vector<Measurement>& measurements);

/// Fits the correction on `measurements` (features: uncalibrated sums and layer counts per
/// kind, and a constant; ridge towards scale 1 and per-layer 0 with weight `ridge`) and
/// stores it in `table`.
/// `options.metric()` selects the table metric the correction is for (e.g. "median_ms").
void fit_calibration(LatencyTable& table, const std::shared_ptr<const SearchSpace>& space,
                     const std::vector<Measurement>& measurements, double ridge = 1e-3,
                     const LatencyOptions& options = {});

/// Reads whole-network measurements made elsewhere: a CSV with a header row and the
/// columns `arch` (canonical string) and a latency column (`latency_ms` by default).
/// Throws DataError naming the line for bad rows.
std::vector<Measurement> read_measurements_csv(const std::string& path, const SearchSpace& space,
                                               const std::string& column = "latency_ms");

}  // namespace hwnas::cost
