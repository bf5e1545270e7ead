#include "hwnas/export/kit_import.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <set>

#include "core/fnv1a.h"
#include "hwnas/core/error.h"
#include "hwnas/core/io.h"
#include "hwnas/core/json.h"
#include "hwnas/core/json_number.h"
#include "hwnas/search_spaces/registry.h"

namespace hwnas::exporting {
namespace fs = std::filesystem;

namespace {

constexpr const char* kKitFormat = "hwnas-profiling-kit";
constexpr const char* kResultsFormat = "hwnas-kit-results";

// Typed fields of one JSON object, every fault named by `where` and the field.
struct Fields {
  const nlohmann::json& j;
  std::string where;

  const nlohmann::json& at(const std::string& key) const {
    HWNAS_CHECK_T(DataError, j.contains(key), where, " has no \"", key, "\"; add it (docs/cost-models.md lists the fields)");
    return j[key];
  }
  std::string string(const std::string& key) const {
    const auto& v = at(key);
    HWNAS_CHECK_T(DataError, v.is_string(), where, ": \"", key, "\" must be a string, but is ", v.dump());
    return v.get<std::string>();
  }
  int64_t integer(const std::string& key, int64_t lo, int64_t hi) const {
    const auto v = json_integer<int64_t>(at(key), where + ": \"" + key + "\"");
    HWNAS_CHECK_T(DataError, v >= lo && v <= hi, where, ": \"", key, "\" is ", v, "; it must be ", lo, " to ", hi);
    return v;
  }
  double milliseconds(const std::string& key) const {
    const auto& v = at(key);
    HWNAS_CHECK_T(DataError, v.is_number() && std::isfinite(v.get<double>()), where, ": \"", key,
                  "\" must be a finite number of milliseconds, but is ", v.dump());
    const double ms = v.get<double>();
    HWNAS_CHECK_T(DataError, ms >= 0, where, ": \"", key, "\" is ", v.dump(), "; a time cannot be negative: give the time measured");
    return ms;
  }
};

KitModel read_model(const nlohmann::json& j, const std::string& role, const std::string& where) {
  HWNAS_CHECK_T(DataError, j.is_object(), where, " must be an object");
  const Fields f{j, where};
  KitModel m;
  m.role = role;
  m.id = f.string("id");
  HWNAS_CHECK_T(DataError, !m.id.empty() && m.id.size() <= 64, where, ": \"id\" must have 1 to 64 characters");
  if (role == "layer") {
    m.key = f.string("key");
    m.kind = f.string("kind");
  } else if (role == "network") {
    m.arch = f.string("arch");
  }
  const auto& input = f.at("input");
  HWNAS_CHECK_T(DataError, input.is_array() && input.size() == 4, where, ": \"input\" must be [N, C, H, W]");
  for (size_t i = 0; i < 4; ++i) {
    m.input.push_back(json_integer<int64_t>(input[i], fmt::format("{}: \"input\"[{}]", where, i)));
    HWNAS_CHECK_T(DataError, m.input.back() >= 1 && m.input.back() <= (int64_t{1} << 20), where, ": \"input\"[", i,
                  "] is ", m.input.back(), "; it must be 1 to 2^20");
  }
  m.torchscript = f.string("torchscript");
  m.onnx = f.string("onnx");
  return m;
}

}  // namespace

ProfilingKit ProfilingKit::from_json(const nlohmann::json& manifest, const std::string& dir) {
  const std::string where = (fs::path(dir) / "manifest.json").string();
  HWNAS_CHECK_T(DataError, manifest.is_object() && manifest.contains("format") && manifest["format"] == kKitFormat, where,
                " is not an hwnas profiling kit manifest (expected \"format\": \"", kKitFormat,
                "\"); give the folder `hwnas profile --kit` wrote");
  const Fields f{manifest, where};
  const auto version = f.integer("version", 1, 1000000);
  HWNAS_CHECK_T(DataError, version == 1, where, " has kit format version ", version,
                "; this hwnas reads version 1: upgrade hwnas");
  ProfilingKit kit;
  kit.dir = dir;
  kit.fingerprint = f.string("fingerprint");
  {
    auto body = manifest;
    body.erase("fingerprint");
    const auto actual = fmt::format("{:016x}", hwnas::detail::fnv1a(body.dump()));
    HWNAS_CHECK_T(DataError, actual == kit.fingerprint, where, " was changed after it was written (fingerprint ",
                  kit.fingerprint, ", contents ", actual, "); write the kit again with hwnas profile --kit");
  }
  kit.space = f.string("space");
  kit.space_config = f.at("space_config");
  HWNAS_CHECK_T(DataError, kit.space_config.is_object(), where, ": \"space_config\" must be an object");
  kit.batch = f.integer("batch", 1, 4096);
  kit.dtype = f.string("dtype");
  const auto& protocol = f.at("protocol");
  HWNAS_CHECK_T(DataError, protocol.is_object(), where, ": \"protocol\" must be an object");
  const Fields p{protocol, where + " protocol"};
  kit.warmup = p.integer("warmup", 0, 100000);
  kit.repetitions = p.integer("repetitions", 1, 1000000);
  kit.overhead = read_model(f.at("overhead"), "overhead", where + " overhead");
  for (const auto& [key, role] : {std::pair{"layers", "layer"}, std::pair{"networks", "network"}}) {
    const auto& list = f.at(key);
    HWNAS_CHECK_T(DataError, list.is_array(), where, ": \"", key, "\" must be a list");
    auto& out = std::string(key) == "layers" ? kit.layers : kit.networks;
    for (size_t i = 0; i < list.size(); ++i) out.push_back(read_model(list[i], role, fmt::format("{} {}[{}]", where, key, i)));
  }
  std::set<std::string> ids, keys;
  for (const auto* m : kit.models())
    HWNAS_CHECK_T(DataError, ids.insert(m->id).second, where, ": the id '", m->id, "' is given twice");
  for (const auto& l : kit.layers)
    HWNAS_CHECK_T(DataError, keys.insert(l.key).second, where, ": the layer key '", l.key, "' is given twice");
  return kit;
}

ProfilingKit ProfilingKit::load(const std::string& dir) {
  const auto path = (fs::path(dir) / "manifest.json").string();
  HWNAS_CHECK_T(DataError, fs::is_directory(dir), "profiling kit '", dir,
                "' is not a folder; give the folder `hwnas profile --kit` wrote");
  HWNAS_CHECK_T(DataError, fs::exists(path), "profiling kit '", dir, "' has no manifest.json; give the folder "
                "`hwnas profile --kit` wrote");
  return from_json(read_json_file(path, "profiling kit manifest"), dir);
}

const KitModel* ProfilingKit::find(const std::string& id) const {
  for (const auto* m : models())
    if (m->id == id) return m;
  return nullptr;
}

std::vector<const KitModel*> ProfilingKit::models() const {
  std::vector<const KitModel*> out{&overhead};
  for (const auto& l : layers) out.push_back(&l);
  for (const auto& n : networks) out.push_back(&n);
  return out;
}

KitResults KitResults::parse(std::string_view text, const std::string& source) {
  KitResults r;
  r.source = source;
  int64_t line_no = 0;
  bool header = false;
  size_t pos = 0;
  while (pos < text.size()) {
    const auto end = std::min(text.find('\n', pos), text.size());
    const auto line = text.substr(pos, end - pos);
    const bool last = end == text.size();
    pos = end + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const std::string where = fmt::format("{} line {}", source, line_no);
    nlohmann::json j;
    try {
      j = parse_json(line, where);
    } catch (const ParseError& e) {
      if (last && text.back() != '\n')
        throw DataError(fmt::format("{} is cut off (the measurement was interrupted); continue it with the "
                                    "runner's --resume, or delete the line", where));
      throw;
    }
    HWNAS_CHECK_T(DataError, j.is_object(), where, " must be a JSON object, but is ", j.dump().substr(0, 40));
    const Fields f{j, where};
    if (!header) {
      // Compared as JSON values: value("format", "") throws on a "format" of another type.
      HWNAS_CHECK_T(DataError, j.contains("format") && j["format"] == kResultsFormat, where,
                    " is not a kit results header (\"format\": \"", kResultsFormat,
                    "\"); give the file a kit runner wrote (docs/cost-models.md shows the format)");
      const auto version = f.integer("version", 1, 1000000);
      HWNAS_CHECK_T(DataError, version == 1, where, " has results format version ", version,
                    "; this hwnas reads version 1: upgrade hwnas");
      r.kit = f.string("kit");
      r.runtime = f.string("runtime");
      HWNAS_CHECK_T(DataError, !r.runtime.empty(), where, ": \"runtime\" is empty; name the runtime that measured");
      r.runtime_version = f.string("runtime_version");
      r.device = f.string("device");
      r.threads = f.integer("threads", 1, 1024);
      if (j.contains("date")) r.date = f.string("date");
      r.protocol = f.at("protocol");
      HWNAS_CHECK_T(DataError, r.protocol.is_object(), where, ": \"protocol\" must be an object");
      if (r.protocol.contains("unit")) {
        const auto unit = Fields{r.protocol, where + " protocol"}.string("unit");
        HWNAS_CHECK_T(DataError, unit == "ms", where, ": the protocol's unit is '", unit,
                      "'; hwnas reads milliseconds: convert the times and set \"unit\": \"ms\"");
      }
      if (r.protocol.contains("statistic")) {
        const auto statistic = Fields{r.protocol, where + " protocol"}.string("statistic");
        HWNAS_CHECK_T(DataError, statistic == "median", where, ": the protocol's statistic is '", statistic,
                      "'; the kit asks for the median of the timed runs: set \"statistic\": \"median\"");
      }
      header = true;
      continue;
    }
    const auto id = f.string("id");
    if (!j.contains("median_ms"))
      for (const auto& [key, value] : j.items())
        for (const char* unit : {"_us", "_ns", "_s"})
          HWNAS_CHECK_T(DataError, key.size() <= std::string(unit).size() ||
                        key.compare(key.size() - std::string(unit).size(), std::string::npos, unit) != 0,
                        where, ": \"", key, "\" is not in milliseconds; hwnas reads median_ms, mean_ms and std_ms: "
                        "convert the times to milliseconds");
    KitTiming t;
    t.median_ms = f.milliseconds("median_ms");
    t.mean_ms = f.milliseconds("mean_ms");
    t.std_ms = f.milliseconds("std_ms");
    t.count = f.integer("count", 1, int64_t{1} << 40);
    t.line = line_no;
    const auto [it, fresh] = r.timings.emplace(id, t);
    HWNAS_CHECK_T(DataError, fresh, where, ": '", id, "' was measured already on line ", it->second.line,
                  "; keep one line per model");
  }
  HWNAS_CHECK_T(DataError, header, source, " is empty; give the results file a kit runner wrote");
  return r;
}

KitResults KitResults::load(const std::string& path) { return parse(read_file(path, "kit results"), path); }

void KitResults::check_covers(const ProfilingKit& kit) const {
  HWNAS_CHECK_T(DataError, this->kit == kit.fingerprint, source, " was measured on kit ", this->kit, ", not on ", kit.dir,
                " (", kit.fingerprint, "); give the results of this kit, or the folder of the kit measured");
  for (const auto& [id, t] : timings)
    HWNAS_CHECK_T(DataError, kit.find(id) != nullptr, source, " line ", t.line, ": '", id, "' is not a model of kit ",
                  kit.dir, "; give the results of this kit");
  std::vector<std::string> missing;
  for (const auto* m : kit.models())
    if (!timings.count(m->id)) missing.push_back(m->role == "layer" ? m->id + " (" + m->key + ")" : m->id);
  if (missing.empty()) return;
  std::string list;
  for (size_t i = 0; i < std::min<size_t>(missing.size(), 8); ++i) list += (i ? ", " : "") + missing[i];
  if (missing.size() > 8) list += fmt::format(" and {} more", missing.size() - 8);
  throw DataError(fmt::format("{} lacks {} of the {} models of kit {}: {}; measure them (the runner's --resume "
                              "continues) and import again", source, missing.size(), kit.models().size(), kit.dir, list));
}

void KitImportOptions::validate() const {
  HWNAS_CHECK_T(ConfigError, holdout() >= -1 && holdout() <= 1000000, "kit import holdout is ", holdout(),
                "; give -1 (half) or 0 to 1000000 networks (--holdout)");
  HWNAS_CHECK_T(ConfigError, std::isfinite(ridge()) && ridge() >= 0 && ridge() <= 1e6, "kit import ridge is ", ridge(),
                "; give 0 to 1e6");
}

nlohmann::json KitImport::report() const {
  nlohmann::json j = {{"layers", layers}, {"below_overhead", below_overhead}, {"fitted_on", fitted_on},
                      {"held_out", held_out}};
  if (calibrated) {
    j["on"] = held_out > 0 ? "held-out networks" : "the fitted networks";
    j["uncalibrated"] = uncalibrated.to_json();
    j["calibrated"] = corrected.to_json();
  }
  return j;
}

KitImport import_kit(const ProfilingKit& kit, const KitResults& results, const KitImportOptions& options) {
  options.validate();
  results.check_covers(kit);
  std::shared_ptr<const SearchSpace> space(make_space(kit.space, kit.space_config));
  KitImport out;
  auto& t = out.table;
  const double overhead = results.timings.at(kit.overhead.id).median_ms;
  t.device.name = options.device_name().empty() ? results.runtime : options.device_name();
  t.device.description = results.device;
  t.device.framework = results.runtime;
  t.device.framework_version = results.runtime_version;
  t.device.threads = results.threads;
  t.device.batch = kit.batch;
  t.device.dtype = kit.dtype;
  t.device.method = fmt::format(
      "profiling kit {}: each layer the median of its timed runs ({} protocol {}) minus the median of the identity "
      "model ({:.4f} ms, the cost of one call, added once per network as overhead_ms)",
      kit.fingerprint, results.runtime, results.protocol.dump(), overhead);
  t.device.date = results.date;
  t.space = kit.space;
  t.space_config = kit.space_config;
  t.overhead_ms = overhead;
  t.source = {{"kit", kit.fingerprint}, {"results", fs::path(results.source).filename().string()}};
  for (const auto& l : kit.layers) {
    const auto& m = results.timings.at(l.id);
    cost::LatencyEntry e;
    e.mean_ms = std::max(0.0, m.median_ms - overhead);
    e.std_ms = m.std_ms;
    e.count = m.count;
    if (m.median_ms < overhead) ++out.below_overhead;
    t.set("", l.key, std::move(e));
  }
  out.layers = static_cast<int64_t>(kit.layers.size());

  std::vector<cost::Measurement> networks;
  for (const auto& n : kit.networks) {
    try {
      networks.push_back({space->parse(n.arch), results.timings.at(n.id).median_ms});
    } catch (const Error& e) {
      throw DataError(fmt::format("{}: network {} ({}) is not an arch of its space {}: {}", kit.dir, n.id, n.arch,
                                  kit.space, e.what()));
    }
  }
  const auto n = static_cast<int64_t>(networks.size());
  const int64_t holdout = options.holdout() >= 0 ? options.holdout() : (n >= 6 ? n / 2 : 0);
  HWNAS_CHECK_T(ConfigError, n == 0 || n - holdout >= 3, "kit ", kit.dir, " has ", n, " whole networks; holding out ",
                holdout, " leaves fewer than the 3 a calibration needs: hold out fewer (--holdout)");
  HWNAS_CHECK_T(ConfigError, holdout != 1, "a held-out set of 1 network has no ranking to report on: hold out 0 or at "
                "least 2 (--holdout)");
  if (n == 0) return out;  // a table without calibration: nothing to fit on
  auto& fit = out.fit_networks;
  auto& check = out.check_networks;
  fit.assign(networks.begin(), networks.end() - holdout);
  check = holdout > 0 ? std::vector<cost::Measurement>(networks.end() - holdout, networks.end()) : fit;
  const auto raw = std::make_shared<const cost::LatencyTable>(t);
  cost::fit_calibration(t, space, fit, options.ridge());
  out.calibrated = true;
  out.fitted_on = n - holdout;
  out.held_out = holdout;
  out.uncalibrated = cost::evaluate_table(cost::LatencyModel(raw, space, cost::LatencyOptions().use_calibration(false)), check);
  out.corrected = cost::evaluate_table(cost::LatencyModel(std::make_shared<const cost::LatencyTable>(t), space), check);
  t.calibration_report = out.report();
  return out;
}

}  // namespace hwnas::exporting
