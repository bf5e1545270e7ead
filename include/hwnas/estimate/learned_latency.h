#pragma once
// LearnedLatencyModel: a latency cost model learned from whole-network measurements, for
// devices where layer latencies do not add up (fusion, caches, scheduling).
//
// With a table it learns the non-additive rest: any predictor (hwnas/predictors/predictor.h)
// fitted on the space's encoding to the ratio measured / table(arch), and predicts
// table(arch) x ratio. Without a table the predictor learns the latency itself, so whole-
// network measurements alone (a CSV of arch, latency from any device) make a cost model.
// Check it with evaluate_predictions (hwnas/cost/calibration.h) on held-out archs.
//
// A fitted model is saved as a versioned file with its device name and where it came
// from (the measurements, the kit, the table and what it was made from, the held-out report):
//   {"format": "hwnas-learned-latency", "version": 1, "device": "ort-learned",
//    "space": "nb201", "table": null | {"name", "file", "source"},
//    "source": {"measurements", "kit", "archs", "held_out"}, "predictor": {...}}
//
// Example:
//   LearnedLatencyModel learned(space, make_predictor("gp"), table_model);
//   learned.fit(train_measurements);
//   double ms = learned.predict(arch);
//   learned.set_device("phone-learned");
//   learned.save("phone-learned.json");   // {"name": "learned", "model": "phone-learned.json"}
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwnas/cost/calibration.h"
#include "hwnas/cost/latency_table.h"
#include "hwnas/predictors/predictor.h"

namespace hwnas::estimate {

/// Where a learned latency model's measurements came from (saved with it; free text
/// except `archs`).
struct LearnedLatencySource {
  std::string measurements;  ///< the file they were read from, or how they were made
  std::string kit;           ///< the profiling kit's fingerprint, when they are a kit's networks
  int64_t archs = 0;         ///< measurements fitted on
  nlohmann::json held_out;   ///< report on held-out measurements (CalibrationReport::to_json), or null
};

class LearnedLatencyModel {
 public:
  static constexpr int kFormatVersion = 1;

  /// `table` may be null (the predictor then learns the latency directly).
  LearnedLatencyModel(std::shared_ptr<const SearchSpace> space, std::shared_ptr<predictors::Predictor> predictor,
                      std::shared_ptr<const cost::LatencyModel> table = nullptr);

  /// Fits the predictor on these measurements (archs of the space); records their number.
  void fit(const std::vector<cost::Measurement>& measurements);
  double predict(const Arch& arch) const;
  std::vector<double> predict(const std::vector<Arch>& archs) const;

  const predictors::Predictor& predictor() const { return *predictor_; }
  bool has_table() const { return table_ != nullptr; }

  /// The device: a search sees the model as the metric latency@<device>.
  const std::string& device() const { return device_; }
  void set_device(std::string device);
  const LearnedLatencySource& source() const { return source_; }
  void set_source(LearnedLatencySource source) { source_ = std::move(source); }
  /// The table's file, saved with the model (informational: loading takes the table itself).
  void set_table_file(std::string file) { table_file_ = std::move(file); }

  /// The versioned document above (the model must be fitted).
  nlohmann::json to_json() const;
  /// Writes to_json() atomically.
  void save(const std::string& path) const;

  /// The table a saved model needs (its name), or "" when it learned the latency itself.
  /// Also accepts a bare predictor file (an earlier hwnas's --save-learned).
  static std::string table_needed(const nlohmann::json& doc, const std::string& where);
  /// Reads a document to_json() wrote, or a bare predictor file (no device, no
  /// provenance). `table` must be the one it learned the ratio to (checked by name), null
  /// when table_needed is "". Throws DataError naming `where` and the field.
  static LearnedLatencyModel from_json(const nlohmann::json& doc, const std::string& where,
                                       std::shared_ptr<const SearchSpace> space,
                                       std::shared_ptr<const cost::LatencyModel> table = nullptr);

 private:
  std::shared_ptr<const SearchSpace> space_;
  std::shared_ptr<predictors::Predictor> predictor_;
  std::shared_ptr<const cost::LatencyModel> table_;
  std::string device_, table_file_;
  LearnedLatencySource source_;
};

}  // namespace hwnas::estimate
