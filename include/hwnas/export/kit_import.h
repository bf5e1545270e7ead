#pragma once
// Importing a measured profiling kit (hwnas/export/kit.h): the kit's manifest, a runner's
// results file, and the latency table and calibration they make.
//
//   auto kit = exporting::ProfilingKit::load("nb201-kit");
//   auto results = exporting::KitResults::load("nb201-ort.jsonl");
//   auto imported = exporting::import_kit(kit, results);       // checks every model is there
//   imported.table.save("nb201-ort.json");                     // latency@onnxruntime
//   // hwnas table import-kit --kit nb201-kit --results nb201-ort.jsonl -o nb201-ort.json
//
// Results file (JSON Lines, written by runners/onnxruntime/run-kit.mjs, hwnas-probe, or by
// hand for any other runtime): a header line
//   {"format": "hwnas-kit-results", "version": 1, "kit": <the manifest's fingerprint>,
//    "runtime": "onnxruntime", "runtime_version": "1.16.3", "device": "<description>",
//    "threads": 1, "date": "2026-12-02" (optional),
//    "protocol": {"warmup": 10, "repetitions": 50, "statistic": "median", "unit": "ms", ...}}
// then one line per model of the kit (the overhead model, every layer, every network):
//   {"id": "L0001", "median_ms": 0.042, "mean_ms": 0.045, "std_ms": 0.006, "count": 50}
// Times are in milliseconds, per call of the model on its input (batch included).
//
// The table: each layer's entry is its median minus the overhead model's median (the
// runtime's cost of one call, which a whole network pays once: the table's overhead_ms),
// never below 0. The whole networks calibrate it (cost::fit_calibration): the last
// `holdout` networks are kept out of the fit, and the report on them (before and after
// the correction) is stored in the table beside the correction fitted on the others.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwnas/core/options.h"
#include "hwnas/cost/calibration.h"
#include "hwnas/cost/latency_table.h"

namespace hwnas::exporting {

/// One model of a kit, as its manifest describes it.
struct KitModel {
  std::string id;
  std::string role;        ///< "overhead", "layer" or "network"
  std::string key, kind;   ///< layers: the latency-table key and the layer kind
  std::string arch;        ///< networks: the canonical arch string
  std::vector<int64_t> input;  ///< N, C, H, W
  std::string torchscript, onnx;  ///< paths inside the kit
};

/// A kit's manifest.json, checked: the format and version, every field's type, unique ids,
/// and the fingerprint against the manifest's own contents (an edited manifest is refused).
struct ProfilingKit {
  std::string dir, fingerprint, space;
  nlohmann::json space_config = nlohmann::json::object();
  int64_t batch = 1, warmup = 0, repetitions = 1;
  std::string dtype;
  KitModel overhead;
  std::vector<KitModel> layers, networks;

  /// Reads DIR/manifest.json; throws DataError (ParseError for bad JSON) naming the file
  /// and the field.
  static ProfilingKit load(const std::string& dir);
  static ProfilingKit from_json(const nlohmann::json& manifest, const std::string& dir);
  /// The model with this id, or null.
  const KitModel* find(const std::string& id) const;
  /// Every model, the overhead first.
  std::vector<const KitModel*> models() const;
};

/// One model's measurement.
struct KitTiming {
  double median_ms = 0, mean_ms = 0, std_ms = 0;
  int64_t count = 0;
  int64_t line = 0;  ///< where it is in the results file
};

/// A results file, checked line by line (see above): throws DataError naming the file,
/// the line and the field for a bad header, a missing or non-finite or negative value,
/// another unit, a repeated model, or a cut line.
struct KitResults {
  std::string source;
  std::string kit;  ///< the fingerprint of the kit measured
  std::string runtime, runtime_version, device, date;
  int64_t threads = 1;
  nlohmann::json protocol = nlohmann::json::object();
  std::map<std::string, KitTiming> timings;  ///< by model id

  static KitResults load(const std::string& path);
  static KitResults parse(std::string_view text, const std::string& source);
  /// Throws DataError unless these are results of `kit` (its fingerprint) holding every
  /// model of it and no other (the missing ones are listed).
  void check_covers(const ProfilingKit& kit) const;
};

struct KitImportOptions {
  /// The table's device name, "latency@<name>" in searches (default: the runtime's name).
  HWNAS_ARG(std::string, device_name);
  /// Whole networks kept out of the calibration fit to report on (-1: half of them when
  /// there are at least 6, otherwise none: the report is then on the fitted networks).
  HWNAS_ARG(int64_t, holdout) = -1;
  /// Ridge weight of the calibration fit (cost::fit_calibration).
  HWNAS_ARG(double, ridge) = 1e-3;

 public:
  void validate() const;
};

struct KitImport {
  cost::LatencyTable table;
  int64_t layers = 0;
  int64_t below_overhead = 0;  ///< layers whose median was below the overhead's (set to 0)
  int64_t fitted_on = 0, held_out = 0;
  bool calibrated = false;
  /// On the held-out networks (on the fitted ones when none were held out).
  cost::CalibrationReport uncalibrated, corrected;
  /// The kit's whole networks as measured: those the calibration was fitted on, and those
  /// it is reported on (the held-out ones, or the fitted ones when none were held out).
  std::vector<cost::Measurement> fit_networks, check_networks;
  /// The report stored in the table ("calibration"/"report").
  nlohmann::json report() const;
};

/// Builds the latency table of `kit` from `results` (checked with check_covers) and
/// calibrates it on the kit's whole networks.
KitImport import_kit(const ProfilingKit& kit, const KitResults& results, const KitImportOptions& options = {});

}  // namespace hwnas::exporting
