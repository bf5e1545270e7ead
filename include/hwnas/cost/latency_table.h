#pragma once
// Latency lookup tables: measured per-layer latencies of one device, keyed by the layer's
// canonical key (LayerSpec::key(), or OFA's key format for imported OFA tables), and a cost
// model that sums them over an architecture's layers.
//
// File format (JSON, written atomically):
//   {"format": "hwnas-latency-table", "version": 1,
//    "device": {"name", "description", "framework", "framework_version", "threads",
//               "batch", "dtype", "precision", "method", "date"},
//    "space": "ofa", "space_config": {...}, "key_format": "hwnas" | "ofa",
//    "overhead_ms": 0.0,
//    "calibration": {"offset_ms": 0.3, "scale": {"mbconv": 1.1, ...},
//                    "per_layer_ms": {"mbconv": 0.02, ...}, "metric": "mean_ms",
//                    "report": {...} (optional: how well it predicts held-out networks)}, (optional)
//    "source": {...} (optional: what the table was made from, e.g. a profiling kit),
//    "sections": {"": {"<layer key>": {"mean_ms", "std_ms", "count", "extra": {"energy_mj": ..}}}}}
// Sections split a table by input resolution where keys alone do not (OFA's tables were
// measured separately per resolution); hwnas's own tables use the one section "".
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwnas/core/layer_spec.h"
#include "hwnas/core/options.h"
#include "hwnas/core/search_space.h"

namespace hwnas::cost {

struct DeviceInfo {
  std::string name = "unknown";
  std::string description;
  std::string framework = "libtorch";
  std::string framework_version;
  int64_t threads = 1;
  int64_t batch = 1;
  std::string dtype = "float32";
  std::string precision = "fp32";
  std::string method;  // how entries were measured
  std::string date;
};

struct LatencyEntry {
  double mean_ms = 0;
  double std_ms = 0;
  int64_t count = 0;
  std::map<std::string, double> extra;  // other metrics of the same layer, e.g. energy_mj
};

class LatencyTable {
 public:
  static constexpr int kFormatVersion = 1;

  DeviceInfo device;
  std::string space;  // registry name of the space it was built for ("" = any)
  nlohmann::json space_config = nlohmann::json::object();
  std::string key_format = "hwnas";
  double overhead_ms = 0;  // added once per network
  bool calibrated = false;
  double calibration_offset_ms = 0;
  std::map<std::string, double> calibration_scale;      // layer kind -> factor on its table sum
  std::map<std::string, double> calibration_per_layer;  // layer kind -> ms added per layer
  std::string calibration_metric = "mean_ms";           // the metric the correction was fitted for
  nlohmann::json calibration_report;                    // null, or how the correction does on held-out networks
  nlohmann::json source;                                // null, or what the table was made from
  std::map<std::string, std::unordered_map<std::string, LatencyEntry>> sections;

  /// Reads a table; throws DataError naming the file, the entry and the problem (bad JSON,
  /// another format, a newer version, NaN / negative / missing values).
  static LatencyTable load(const std::string& path);
  /// Writes the table atomically.
  void save(const std::string& path) const;
  nlohmann::json to_json() const;
  static LatencyTable from_json(const nlohmann::json& j, const std::string& source = "table");

  /// Imports Once-for-All's YAML tables (`<resolution>_lookup_table.yaml` files in `dir`),
  /// one section per resolution, key format "ofa", space "ofa" (width 1.2 for OFA's Note10).
  static LatencyTable from_ofa_yaml(const std::string& dir, const std::string& device_name);

  const LatencyEntry* find(const std::string& section, const std::string& key) const;
  void set(const std::string& section, const std::string& key, LatencyEntry entry);
  size_t size() const;
};

/// What to do when a layer's key is not in the table.
enum class Fallback {
  kError,    ///< throw NotFoundError naming the key and the table
  kNearest,  ///< the entry of the same kind and attributes with the nearest MACs
             ///< (activation size for MAC-free layers), scaled by the MAC (size) ratio
};

/// Example: LatencyModel model(table, space, LatencyOptions().fallback(Fallback::kNearest));
struct LatencyOptions {
  HWNAS_ARG(Fallback, fallback) = Fallback::kError;
  /// "mean_ms", or the name of an extra metric (e.g. "energy_mj") to sum instead.
  HWNAS_ARG(std::string, metric) = "mean_ms";
  /// Apply the table's calibration, if it has one.
  HWNAS_ARG(bool, use_calibration) = true;
};

/// The cost model "latency@<device>": the table's entries summed over an arch's layers.
class LatencyModel {
 public:
  LatencyModel(std::shared_ptr<const LatencyTable> table, std::shared_ptr<const SearchSpace> space,
               LatencyOptions options = {});

  std::string name() const;
  /// Predicted latency in ms (or the chosen metric).
  double predict(const Arch& arch) const;
  /// The same from the arch's layers (space.layers(arch)) when the caller has them already.
  double predict(const Arch& arch, const std::vector<LayerSpec>& layers) const;
  std::vector<double> predict(const std::vector<Arch>& archs) const;
  /// The same without building the arch's layers: a few array reads where the space has
  /// layer parts (SearchSpace::layer_parts) and the table is uncalibrated; nothing where it
  /// cannot (predict() then sums layer by layer, and says which layer a table lacks).
  std::optional<double> predict_without_layers(const Arch& arch) const;
  /// Uncalibrated sum per layer kind (plus "overhead"), for calibration.
  std::map<std::string, double> by_kind(const Arch& arch) const;
  /// Number of layers per kind.
  std::map<std::string, double> count_by_kind(const Arch& arch) const;
  /// The key a layer has in this table.
  std::string key(const LayerSpec& layer) const;
  const LatencyTable& table() const { return *table_; }

 private:
  struct Cache;  // layer -> value, per section: a layer's key is built and looked up once
  struct Parts;  // the space's layer parts, each value of their genes precomputed (SearchSpace::layer_parts)
  double entry_value(const std::string& section, const LayerSpec& layer) const;
  double lookup(const std::string& section, const LayerSpec& layer) const;
  std::string section_of(const Arch& arch) const;

  std::shared_ptr<const LatencyTable> table_;
  std::shared_ptr<const SearchSpace> space_;
  LatencyOptions options_;
  std::shared_ptr<Cache> cache_;
  std::shared_ptr<Parts> parts_;
  std::function<std::string(const LayerSpec&)> key_fn_;
};

}  // namespace hwnas::cost
