#include "hwnas/cost/latency_table.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <shared_mutex>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "hwnas/core/json_number.h"
#include "hwnas/core/error.h"
#include "hwnas/core/json.h"
#include "hwnas/core/io.h"
#include "hwnas/cost/analytic.h"
#include "hwnas/cost/layer_kind.h"
#include "cost/layer_parts.h"

namespace hwnas::cost {
namespace {

constexpr const char* kFormat = "hwnas-latency-table";

void check_entry(const LatencyEntry& e, const std::string& source, const std::string& section, const std::string& key) {
  const std::string where = "'" + source + "', entry '" + key + "'" + (section.empty() ? "" : " (section " + section + ")");
  HWNAS_CHECK_T(DataError, std::isfinite(e.mean_ms) && e.mean_ms >= 0, "Latency table ", where,
                ": mean must be a finite number >= 0, but is ", e.mean_ms);
  HWNAS_CHECK_T(DataError, std::isfinite(e.std_ms) && e.std_ms >= 0, "Latency table ", where,
                ": std must be a finite number >= 0, but is ", e.std_ms);
  HWNAS_CHECK_T(DataError, e.count >= 1, "Latency table ", where, ": count must be >= 1, but is ", e.count);
  for (const auto& [name, v] : e.extra)
    HWNAS_CHECK_T(DataError, std::isfinite(v), "Latency table ", where, ": extra metric '", name, "' is ", v);
}

template <typename T>
T get_field(const nlohmann::json& j, const char* field, const std::string& where) {
  HWNAS_CHECK_T(DataError, j.is_object() && j.contains(field), where, ": field '", field, "' is missing");
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) return json_integer<T>(j[field], detail::concat(where, ": field '", field, "'"));
  try {
    return j[field].get<T>();
  } catch (const nlohmann::json::exception&) {
    throw DataError(detail::concat(where, ": field '", field, "' has the wrong type: ", j[field].dump()));
  }
}

}  // namespace

nlohmann::json LatencyTable::to_json() const {
  nlohmann::json sec = nlohmann::json::object();
  for (const auto& [name, entries] : sections) {
    // Sorted keys: stable files, readable diffs.
    std::map<std::string, const LatencyEntry*> sorted;
    for (const auto& [k, e] : entries) sorted[k] = &e;
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [k, e] : sorted) {
      nlohmann::json je = {{"mean_ms", e->mean_ms}, {"std_ms", e->std_ms}, {"count", e->count}};
      if (!e->extra.empty()) je["extra"] = e->extra;
      out[k] = je;
    }
    sec[name] = out;
  }
  nlohmann::json j = {{"format", kFormat},
                      {"version", kFormatVersion},
                      {"device",
                       {{"name", device.name}, {"description", device.description}, {"framework", device.framework},
                        {"framework_version", device.framework_version}, {"threads", device.threads},
                        {"batch", device.batch}, {"dtype", device.dtype}, {"precision", device.precision},
                        {"method", device.method}, {"date", device.date}}},
                      {"space", space},
                      {"space_config", space_config},
                      {"key_format", key_format},
                      {"overhead_ms", overhead_ms},
                      {"sections", sec}};
  if (calibrated)
    j["calibration"] = {{"offset_ms", calibration_offset_ms}, {"scale", calibration_scale},
                        {"per_layer_ms", calibration_per_layer}, {"metric", calibration_metric}};
  if (calibrated && !calibration_report.is_null()) j["calibration"]["report"] = calibration_report;
  if (!source.is_null()) j["source"] = source;
  return j;
}

namespace {
LatencyTable read_table(const nlohmann::json& j, const std::string& source) {
  const std::string where = "Latency table '" + source + "'";
  HWNAS_CHECK_T(DataError, j.is_object() && j.value("format", "") == kFormat, where,
                " is not an hwnas latency table (expected \"format\": \"", kFormat, "\")");
  const int version = get_field<int>(j, "version", where);
  HWNAS_CHECK_T(DataError, version >= 1 && version <= LatencyTable::kFormatVersion, where, " has format version ", version,
                "; this hwnas reads version ", LatencyTable::kFormatVersion, version > LatencyTable::kFormatVersion ? ": upgrade hwnas" : "");
  LatencyTable t;
  const auto& d = j.contains("device") ? j["device"] : nlohmann::json::object();
  t.device.name = d.value("name", "unknown");
  t.device.description = d.value("description", "");
  t.device.framework = d.value("framework", "");
  t.device.framework_version = d.value("framework_version", "");
  t.device.threads = d.contains("threads") ? get_field<int64_t>(d, "threads", where + " device") : 1;
  t.device.batch = d.contains("batch") ? get_field<int64_t>(d, "batch", where + " device") : 1;
  t.device.dtype = d.value("dtype", "float32");
  t.device.precision = d.value("precision", "fp32");
  t.device.method = d.value("method", "");
  t.device.date = d.value("date", "");
  t.space = j.value("space", "");
  t.space_config = j.value("space_config", nlohmann::json::object());
  t.key_format = j.value("key_format", "hwnas");
  // Formats are registered by the spaces that make them (the ofa space registers "ofa"),
  // so the format is checked when a LatencyModel pairs the table with its space.
  HWNAS_CHECK_T(DataError, !t.key_format.empty(), where, ": key_format is empty; give \"hwnas\" or the format of "
                "the space whose keys the table holds");
  t.overhead_ms = j.value("overhead_ms", 0.0);
  HWNAS_CHECK_T(DataError, std::isfinite(t.overhead_ms), where, ": overhead_ms is not finite");
  if (j.contains("calibration")) {
    t.calibrated = true;
    t.calibration_offset_ms = get_field<double>(j["calibration"], "offset_ms", where + " calibration");
    t.calibration_scale = get_field<std::map<std::string, double>>(j["calibration"], "scale", where + " calibration");
    t.calibration_metric = j["calibration"].value("metric", "mean_ms");
    if (j["calibration"].contains("per_layer_ms"))
      t.calibration_per_layer = get_field<std::map<std::string, double>>(j["calibration"], "per_layer_ms", where + " calibration");
    if (j["calibration"].contains("report")) t.calibration_report = j["calibration"]["report"];
  }
  if (j.contains("source")) t.source = j["source"];
  const auto sections = get_field<nlohmann::json>(j, "sections", where);
  HWNAS_CHECK_T(DataError, sections.is_object(), where, ": 'sections' must be an object");
  for (const auto& [name, entries] : sections.items()) {
    HWNAS_CHECK_T(DataError, entries.is_object(), where, ": section '", name, "' must be an object");
    auto& out = t.sections[name];
    for (const auto& [key, je] : entries.items()) {
      const std::string ew = where + ", entry '" + key + "'";
      LatencyEntry e;
      e.mean_ms = get_field<double>(je, "mean_ms", ew);
      e.std_ms = get_field<double>(je, "std_ms", ew);
      e.count = get_field<int64_t>(je, "count", ew);
      if (je.contains("extra")) e.extra = get_field<std::map<std::string, double>>(je, "extra", ew);
      check_entry(e, source, name, key);
      out.emplace(key, std::move(e));
    }
  }
  return t;
}
}  // namespace

LatencyTable LatencyTable::from_json(const nlohmann::json& j, const std::string& source) {
  // Optional fields are read with value(), which throws nlohmann's type_error for a field
  // of another type: reported as the table's error, like every other bad field.
  try {
    return read_table(j, source);
  } catch (const nlohmann::json::exception& e) {
    std::string what = e.what();
    if (what.rfind("[json.exception.", 0) == 0) what = what.substr(what.find("] ") + 2);
    throw DataError(detail::concat("Latency table '", source, "' has a field of the wrong type (", what,
                                   "); fix the file or profile the table again"));
  }
}


LatencyTable LatencyTable::load(const std::string& path) {
  return from_json(read_json_file(path, "latency table"), path);
}

void LatencyTable::save(const std::string& path) const { write_file_atomic(path, to_json().dump(1) + "\n"); }

LatencyTable LatencyTable::from_ofa_yaml(const std::string& dir, const std::string& device_name) {
  namespace fs = std::filesystem;
  HWNAS_CHECK_T(DataError, fs::is_directory(dir), "OFA latency tables: '", dir,
                "' is not a folder (expected <resolution>_lookup_table.yaml files)");
  LatencyTable t;
  t.device.name = device_name;
  t.device.description = "imported from Once-for-All's YAML latency tables";
  t.device.method = "OFA lookup tables (mean of count runs)";
  t.space = "ofa";
  t.key_format = "ofa";
  std::vector<fs::path> files;
  for (const auto& f : fs::directory_iterator(dir))
    if (f.path().filename().string().find("_lookup_table.yaml") != std::string::npos) files.push_back(f.path());
  std::sort(files.begin(), files.end());
  HWNAS_CHECK_T(DataError, !files.empty(), "OFA latency tables: no <resolution>_lookup_table.yaml file in '", dir, "'");
  for (const auto& f : files) {
    const std::string name = f.filename().string();
    const std::string res = name.substr(0, name.find('_'));
    HWNAS_CHECK_T(DataError, !res.empty() && res.find_first_not_of("0123456789") == std::string::npos, "OFA latency table '",
                  f.string(), "': the file name must start with the resolution, e.g. 192_lookup_table.yaml");
    YAML::Node root;
    try {
      root = YAML::LoadFile(f.string());
    } catch (const YAML::Exception& e) {
      throw DataError(detail::concat("OFA latency table '", f.string(), "' is not readable YAML: ", e.what(),
                                     "; fix the file or import another folder"));
    }
    HWNAS_CHECK_T(DataError, root.IsMap() && root.size() > 0, "OFA latency table '", f.string(),
                  "' must be a map of layer keys to {count, mean, std}");
    auto& section = t.sections[res];
    for (const auto& item : root) {
      HWNAS_CHECK_T(DataError, item.first.IsScalar(), "OFA latency table '", f.string(), "' has a key at line ",
                    item.first.Mark().line + 1, " that is not a layer name; fix the file or import another folder");
      const std::string key = item.first.Scalar();
      const auto& v = item.second;
      HWNAS_CHECK_T(DataError, v.IsMap() && v["mean"] && v["std"] && v["count"], "OFA latency table '", f.string(),
                    "', entry '", key, "': expected count, mean and std");
      LatencyEntry e;
      try {
        e.mean_ms = v["mean"].as<double>();
        e.std_ms = v["std"].as<double>();
        e.count = v["count"].as<int64_t>();
      } catch (const YAML::Exception& ex) {
        throw DataError(detail::concat("OFA latency table '", f.string(), "', entry '", key, "': ", ex.what(),
                                       "; count must be a whole number, mean and std numbers"));
      }
      check_entry(e, f.string(), res, key);
      section.emplace(key, e);
    }
  }
  return t;
}

const LatencyEntry* LatencyTable::find(const std::string& section, const std::string& key) const {
  auto s = sections.find(section);
  if (s == sections.end()) return nullptr;
  auto e = s->second.find(key);
  return e == s->second.end() ? nullptr : &e->second;
}

void LatencyTable::set(const std::string& section, const std::string& key, LatencyEntry entry) {
  check_entry(entry, "table", section, key);
  sections[section][key] = std::move(entry);
}

size_t LatencyTable::size() const {
  size_t n = 0;
  for (const auto& [name, entries] : sections) n += entries.size();
  return n;
}

// --- LatencyModel ----------------------------------------------------------------------

// Entry values by layer (kind, name, shapes, attributes: everything a key can depend on),
// so that the key string of a layer is built and looked up once per model. Shared by
// copies of the model and safe to use from several threads.
struct LatencyModel::Cache {
  static uint64_t hash(const LayerSpec& l) {
    uint64_t h = 1469598103934665603ull;
    auto mix = [&h](uint64_t v) { h = (h ^ v) * 1099511628211ull; };
    for (unsigned char c : l.kind) mix(c);
    for (unsigned char c : l.name) mix(c);
    for (int64_t v : {l.input.c, l.input.h, l.input.w, l.output.c, l.output.h, l.output.w}) mix(static_cast<uint64_t>(v));
    for (const auto& [k, v] : l.attrs) {
      for (unsigned char c : k) mix(c);
      mix(static_cast<uint64_t>(v));
    }
    return h;
  }
  static bool same(const LayerSpec& a, const LayerSpec& b) {
    return a.kind == b.kind && a.name == b.name && a.input == b.input && a.output == b.output && a.attrs == b.attrs;
  }
  std::shared_mutex mutex;
  std::map<std::string, std::unordered_map<uint64_t, std::vector<std::pair<LayerSpec, double>>>> values;
};

// The space's layer parts, and per section the table's value of each of their layers (NaN
// where the table has none).
struct LatencyModel::Parts {
  std::once_flag once;
  std::unique_ptr<LayerPartTable> parts;
  std::shared_mutex mutex;
  std::map<std::string, std::vector<std::vector<double>>> values;  // section -> per part, as its layers()
};

std::optional<double> LatencyModel::predict_without_layers(const Arch& arch) const {
  if (options_.use_calibration() && table_->calibrated) return std::nullopt;
  auto& p = *parts_;
  std::call_once(p.once, [&] { p.parts = std::make_unique<LayerPartTable>(*space_); });
  if (p.parts->empty()) return std::nullopt;
  const std::string section = section_of(arch);
  const std::vector<std::vector<double>>* values = nullptr;
  {
    std::shared_lock<std::shared_mutex> read(p.mutex);
    const auto it = p.values.find(section);
    if (it != p.values.end()) values = &it->second;
  }
  if (!values) {
    std::vector<std::vector<double>> v(p.parts->size());
    for (size_t i = 0; i < p.parts->size(); ++i)
      for (const auto& l : p.parts->layers(i)) {
        double x = NAN;
        try {
          x = entry_value(section, l);
        } catch (const NotFoundError&) {  // the layer-by-layer sum reports it if an arch needs it
        }
        v[i].push_back(x);
      }
    std::unique_lock<std::shared_mutex> write(p.mutex);
    values = &p.values.emplace(section, std::move(v)).first->second;
  }
  double total = table_->overhead_ms;
  for (size_t i = 0; i < p.parts->size(); ++i) {
    const auto range = p.parts->range(i, arch);
    if (!range) return std::nullopt;
    for (size_t j = range->first; j < range->second; ++j) {
      const double x = (*values)[i][j];
      if (std::isnan(x)) return std::nullopt;
      total += x;  // in layer order, as the layer-by-layer sum adds them
    }
  }
  return total;
}

double LatencyModel::entry_value(const std::string& section, const LayerSpec& layer) const {
  const uint64_t h = Cache::hash(layer);
  {
    std::shared_lock<std::shared_mutex> read(cache_->mutex);
    const auto s = cache_->values.find(section);
    if (s != cache_->values.end()) {
      const auto it = s->second.find(h);
      if (it != s->second.end())
        for (const auto& [l, v] : it->second)
          if (Cache::same(l, layer)) return v;
    }
  }
  const double v = lookup(section, layer);
  std::unique_lock<std::shared_mutex> write(cache_->mutex);
  cache_->values[section][h].emplace_back(layer, v);
  return v;
}

LatencyModel::LatencyModel(std::shared_ptr<const LatencyTable> table, std::shared_ptr<const SearchSpace> space,
                           LatencyOptions options)
    : table_(std::move(table)), space_(std::move(space)), options_(std::move(options)), cache_(std::make_shared<Cache>()), parts_(std::make_shared<Parts>()) {
  HWNAS_CHECK_T(ConfigError, table_ && space_, "LatencyModel needs a table and a space");
  HWNAS_CHECK_T(ConfigError, table_->space.empty() || table_->space == space_->name(), "The latency table for device '",
                table_->device.name, "' was built for space '", table_->space, "', not '", space_->name(), "'");
  if (table_->space_config.is_object() && !table_->space_config.empty() && table_->space_config != space_->config()) {
    std::string differ;
    const auto now = space_->config();
    for (const auto& [k, v] : table_->space_config.items())
      if (!now.contains(k) || now.at(k) != v)
        differ += fmt::format("{}{} (table {}, space {})", differ.empty() ? "" : ", ", k, v.dump(),
                              now.contains(k) ? now.at(k).dump() : "unset");
    for (const auto& [k, v] : now.items())
      if (!table_->space_config.contains(k)) differ += fmt::format("{}{} (table unset, space {})", differ.empty() ? "" : ", ", k, v.dump());
    throw ConfigError(fmt::format("The latency table for device '{}' was profiled for another configuration of space "
                                  "'{}': {}; profile a table for this configuration (hwnas profile)",
                                  table_->device.name, space_->name(), differ));
  }
  HWNAS_CHECK_T(DataError, key_format_registry().contains(table_->key_format), "The latency table for device '",
                table_->device.name, "' has key_format '", table_->key_format, "', which no loaded space makes (known: ",
                fmt::format("{}", fmt::join(key_format_registry().names(), ", ")),
                "); profile the table again with hwnas profile, or pair it with the space it was made for");
  const auto format = key_format_registry().shared(table_->key_format);
  HWNAS_CHECK_T(ConfigError, format->parses_back || options_.fallback() == Fallback::kError,
                "The nearest-shape fallback needs hwnas layer keys; this table has '", table_->key_format, "' keys");
  key_fn_ = format->key;
}

std::string LatencyModel::name() const {
  return (options_.metric() == "mean_ms" ? "latency@" : options_.metric() + "@") + table_->device.name;
}

std::string LatencyModel::key(const LayerSpec& layer) const { return key_fn_(layer); }

std::string LatencyModel::section_of(const Arch& arch) const {
  if (table_->sections.count("")) return "";
  const auto shape = space_->input_shape_of(arch);
  const std::string section = std::to_string(shape.h);
  if (!table_->sections.count(section)) {
    std::vector<int> have;
    for (const auto& [name, entries] : table_->sections) have.push_back(std::atoi(name.c_str()));
    std::sort(have.begin(), have.end());
    throw NotFoundError(fmt::format("The latency table for device '{}' has no section for resolution {} (arch {}); "
                                    "it was measured at resolutions [{}]: limit the space to those (\"resolutions\" "
                                    "in the space config)", table_->device.name, shape.h, arch.str(), fmt::join(have, ", ")));
  }
  return section;
}

double LatencyModel::lookup(const std::string& section, const LayerSpec& layer) const {
  auto value = [&](const LatencyEntry& e) -> double {
    if (options_.metric() == "mean_ms") return e.mean_ms;
    auto it = e.extra.find(options_.metric());
    HWNAS_CHECK_T(NotFoundError, it != e.extra.end(), "The latency table for device '", table_->device.name,
                  "' has no metric '", options_.metric(), "' for layer ", key(layer));
    return it->second;
  };
  const std::string k = key(layer);
  if (const auto* e = table_->find(section, k)) return value(*e);
  if (options_.fallback() == Fallback::kError)
    throw NotFoundError(detail::concat("The latency table for device '", table_->device.name, "' has no entry for layer ",
                                       k, " (", layer.name, "); profile it (hwnas profile) or choose the nearest fallback"));
  // Nearest: same kind and attributes, nearest MACs (or activation size), scaled.
  const auto size_of = [](const LayerSpec& l) {
    const auto c = layer_cost(l);
    return static_cast<double>(c.macs > 0 ? c.macs : c.activations);
  };
  const double target = size_of(layer);
  const LatencyEntry* best = nullptr;
  double best_size = 0, best_dist = INFINITY;
  for (const auto& [key_text, entry] : table_->sections.at(section)) {
    if (key_text.compare(0, layer.kind.size() + 1, layer.kind + "-") != 0) continue;
    const LayerSpec other = LayerSpec::from_key(key_text);
    if (other.attrs != layer.attrs) continue;
    const double s = size_of(other);
    const double dist = std::abs(std::log((s + 1) / (target + 1)));
    if (dist < best_dist) {
      best_dist = dist;
      best = &entry;
      best_size = s;
    }
  }
  HWNAS_CHECK_T(NotFoundError, best != nullptr, "The latency table for device '", table_->device.name,
                "' has no entry for layer ", k, " and none of the same kind and attributes to fall back on");
  return value(*best) * (target + 1) / (best_size + 1);
}

std::map<std::string, double> LatencyModel::by_kind(const Arch& arch) const {
  const std::string section = section_of(arch);
  std::map<std::string, double> out;
  for (const auto& layer : space_->layers(arch)) out[layer.kind] += entry_value(section, layer);
  out["overhead"] += table_->overhead_ms;
  return out;
}

std::map<std::string, double> LatencyModel::count_by_kind(const Arch& arch) const {
  std::map<std::string, double> out;
  for (const auto& layer : space_->layers(arch)) out[layer.kind] += 1;
  return out;
}

double LatencyModel::predict(const Arch& arch) const {
  if (const auto sum = predict_without_layers(arch)) return *sum;
  return predict(arch, space_->layers(arch));
}

double LatencyModel::predict(const Arch& arch, const std::vector<LayerSpec>& layers) const {
  if (const auto sum = predict_without_layers(arch)) return *sum;
  const bool calibrate = options_.use_calibration() && table_->calibrated;
  const std::string section = section_of(arch);
  if (!calibrate) {  // the plain sum, in layer order
    double total = table_->overhead_ms;
    for (const auto& layer : layers) total += entry_value(section, layer);
    return total;
  }
  HWNAS_CHECK_T(ConfigError, table_->calibration_metric == options_.metric(),
                "The latency table for device '", table_->device.name, "' was calibrated for metric '",
                table_->calibration_metric, "', not '", options_.metric(),
                "'; use that metric or turn calibration off (use_calibration(false))");
  // Per kind: scale x (sum of its entries) + per-layer term x (its layer count).
  std::map<std::string, std::pair<double, double>> kinds;  // kind -> (sum, count)
  for (const auto& layer : layers) {
    auto& k = kinds[layer.kind];
    k.first += entry_value(section, layer);
    k.second += 1;
  }
  kinds["overhead"].first += table_->overhead_ms;
  double total = table_->calibration_offset_ms;
  for (const auto& [kind, sum_count] : kinds) {
    const auto scale = table_->calibration_scale.find(kind);
    total += (scale == table_->calibration_scale.end() ? 1.0 : scale->second) * sum_count.first;
  }
  for (const auto& [kind, sum_count] : kinds) {
    const auto per_layer = table_->calibration_per_layer.find(kind);
    if (per_layer != table_->calibration_per_layer.end()) total += per_layer->second * sum_count.second;
  }
  return total;
}

std::vector<double> LatencyModel::predict(const std::vector<Arch>& archs) const {
  std::vector<double> out;
  out.reserve(archs.size());
  for (const auto& a : archs) out.push_back(predict(a));
  return out;
}

}  // namespace hwnas::cost
