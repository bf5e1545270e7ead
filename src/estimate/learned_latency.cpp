#include "hwnas/estimate/learned_latency.h"

#include <fmt/format.h>

#include "hwnas/core/error.h"
#include "hwnas/core/io.h"
#include "hwnas/core/json_number.h"
#include "hwnas/core/search_space.h"

namespace hwnas::estimate {
namespace {

constexpr const char* kFormat = "hwnas-learned-latency";
constexpr const char* kRatioTarget = "latency_ratio_to:";

bool is_bare_predictor(const nlohmann::json& doc) {
  return doc.is_object() && doc.contains("format") && doc["format"] == "hwnas-predictor";
}

/// The table a predictor's target names, or "" for a latency learned directly.
std::string ratio_table(const std::string& target, const std::string& where) {
  if (target.rfind(kRatioTarget, 0) == 0) return target.substr(std::string(kRatioTarget).size());
  HWNAS_CHECK_T(DataError, target == "latency_ms", where, ": its predictor predicts '", target,
                "', not a latency (latency_ms, or latency_ratio_to:<table>); give a file hwnas calibrate --save-learned wrote");
  return "";
}

std::string optional_string(const nlohmann::json& j, const char* key, const std::string& where) {
  if (!j.contains(key) || j[key].is_null()) return "";
  HWNAS_CHECK_T(DataError, j[key].is_string(), where, ": \"", key, "\" must be a string, but is ", j[key].dump());
  return j[key].get<std::string>();
}

/// The document's version checked; `where` names it.
void check_header(const nlohmann::json& doc, const std::string& where) {
  HWNAS_CHECK_T(DataError, doc.is_object() && doc.contains("format") && doc["format"] == kFormat, where,
                " is not an hwnas learned latency model (expected \"format\": \"", kFormat,
                "\"); write one with hwnas calibrate --learned P --save-learned FILE");
  HWNAS_CHECK_T(DataError, doc.contains("version") && doc["version"].is_number_integer(), where,
                ": missing integer \"version\"");
  const int version = json_integer<int>(doc["version"], where + ": \"version\"");
  HWNAS_CHECK_T(DataError, version >= 1 && version <= LearnedLatencyModel::kFormatVersion, where,
                ": learned latency format version ", version, " but this hwnas reads versions 1..",
                LearnedLatencyModel::kFormatVersion,
                version > LearnedLatencyModel::kFormatVersion ? "; it was saved by a newer hwnas: upgrade hwnas to load it" : "");
  for (const char* key : {"predictor", "space", "device"})
    HWNAS_CHECK_T(DataError, doc.contains(key), where, ": missing field \"", key, "\"");
  HWNAS_CHECK_T(DataError, doc["predictor"].is_object(), where, ": \"predictor\" must be an object (a saved predictor)");
  HWNAS_CHECK_T(DataError, doc.contains("table") && (doc["table"].is_null() || doc["table"].is_object()), where,
                ": \"table\" must be null or an object {\"name\", \"file\", \"source\"}");
}

}  // namespace

LearnedLatencyModel::LearnedLatencyModel(std::shared_ptr<const SearchSpace> space,
                                         std::shared_ptr<predictors::Predictor> predictor,
                                         std::shared_ptr<const cost::LatencyModel> table)
    : space_(std::move(space)), predictor_(std::move(predictor)), table_(std::move(table)) {
  HWNAS_CHECK_T(ConfigError, space_ && predictor_, "LearnedLatencyModel needs a space and a predictor");
}

void LearnedLatencyModel::fit(const std::vector<cost::Measurement>& ms) {
  std::vector<Arch> archs;
  std::vector<double> y;
  for (const auto& m : ms) archs.push_back(m.arch);
  const auto base = table_ ? table_->predict(archs) : std::vector<double>(ms.size(), 1.0);
  for (size_t i = 0; i < ms.size(); ++i) {
    HWNAS_CHECK_T(DataError, ms[i].ms > 0 && base[i] > 0, "Measurement ", i, " (", ms[i].arch.str(), "): latency ",
                  ms[i].ms, " ms, table ", base[i], " ms; both must be positive");
    y.push_back(ms[i].ms / base[i]);
  }
  predictor_->set_target(table_ ? kRatioTarget + table_->name() : "latency_ms");
  predictor_->fit(*space_, archs, y);
  source_.archs = static_cast<int64_t>(ms.size());
}

double LearnedLatencyModel::predict(const Arch& arch) const { return predict(std::vector<Arch>{arch}).front(); }

std::vector<double> LearnedLatencyModel::predict(const std::vector<Arch>& archs) const {
  auto out = predictor_->predict(*space_, archs).mean;
  if (table_) {
    const auto base = table_->predict(archs);
    for (size_t i = 0; i < out.size(); ++i) out[i] *= base[i];
  }
  return out;
}

void LearnedLatencyModel::set_device(std::string device) {
  HWNAS_CHECK_T(ConfigError, !device.empty() && device.find('@') == std::string::npos, "a learned latency model's device is '",
                device, "'; give a non-empty name without '@' (its metric is latency@<device>)");
  device_ = std::move(device);
}

nlohmann::json LearnedLatencyModel::to_json() const {
  HWNAS_CHECK_T(ConfigError, !device_.empty(), "the learned latency model has no device name; set one with set_device "
                "before saving it");
  nlohmann::json table = nullptr;
  if (table_)
    table = {{"name", table_->name()}, {"file", table_file_}, {"source", table_->table().source}};
  return {{"format", kFormat},
          {"version", kFormatVersion},
          {"device", device_},
          {"space", space_->name()},
          {"table", table},
          {"source", {{"measurements", source_.measurements}, {"kit", source_.kit}, {"archs", source_.archs},
                      {"held_out", source_.held_out}}},
          {"predictor", predictor_->to_json()}};
}

void LearnedLatencyModel::save(const std::string& path) const { write_file_atomic(path, to_json().dump(2) + "\n"); }

std::string LearnedLatencyModel::table_needed(const nlohmann::json& doc, const std::string& where) {
  if (is_bare_predictor(doc)) {
    HWNAS_CHECK_T(DataError, doc.contains("target") && doc["target"].is_string(), where,
                  ": this predictor has no string \"target\"; give a file hwnas calibrate --save-learned wrote");
    return ratio_table(doc["target"].get<std::string>(), where);
  }
  check_header(doc, where);
  if (doc["table"].is_null()) return "";
  HWNAS_CHECK_T(DataError, doc["table"].contains("name") && doc["table"]["name"].is_string(), where,
                ": \"table\" needs the string \"name\" of the table the model learned the ratio to");
  return doc["table"]["name"].get<std::string>();
}

LearnedLatencyModel LearnedLatencyModel::from_json(const nlohmann::json& doc, const std::string& where,
                                                   std::shared_ptr<const SearchSpace> space,
                                                   std::shared_ptr<const cost::LatencyModel> table) {
  HWNAS_CHECK_T(ConfigError, space != nullptr, "loading ", where, ": no search space given");
  const std::string needs = table_needed(doc, where);
  const bool bare = is_bare_predictor(doc);
  std::shared_ptr<predictors::Predictor> predictor =
      predictors::predictor_from_json(bare ? doc : doc["predictor"], bare ? where : where + ": \"predictor\"");
  HWNAS_CHECK_T(DataError, ratio_table(predictor->target(), where) == needs, where, ": its predictor's target '",
                predictor->target(), "' disagrees with \"table\" (", needs.empty() ? "null" : needs,
                "); give a file hwnas calibrate --save-learned wrote");
  if (needs.empty()) {
    HWNAS_CHECK_T(ConfigError, table == nullptr, where, " learned the latency itself, without a table; give no table");
  } else {
    HWNAS_CHECK_T(ConfigError, table != nullptr, where, " learned the ratio to the table ", needs, "; give that table");
    HWNAS_CHECK_T(ConfigError, table->name() == needs, where, " learned the ratio to the table ", needs,
                  ", but the table given is ", table->name(), "; give that table");
  }
  LearnedLatencyModel model(space, std::move(predictor), std::move(table));
  if (bare) return model;
  const auto file_space = optional_string(doc, "space", where);
  HWNAS_CHECK_T(DataError, file_space == space->name(), where, " is a model of space '", file_space, "', not of '",
                space->name(), "'; use it with its own space");
  try {
    model.set_device(optional_string(doc, "device", where));
  } catch (const ConfigError& e) {
    throw DataError(fmt::format("{}: \"device\": {}", where, e.what()));
  }
  if (!doc["table"].is_null()) model.table_file_ = optional_string(doc["table"], "file", where + ": \"table\"");
  if (doc.contains("source")) {
    const auto& s = doc["source"];
    const auto at = where + ": \"source\"";
    HWNAS_CHECK_T(DataError, s.is_object(), at, " must be an object {\"measurements\", \"kit\", \"archs\", \"held_out\"}");
    model.source_.measurements = optional_string(s, "measurements", at);
    model.source_.kit = optional_string(s, "kit", at);
    if (s.contains("archs")) model.source_.archs = json_integer<int64_t>(s["archs"], at + ": \"archs\"");
    if (s.contains("held_out")) model.source_.held_out = s["held_out"];
  }
  return model;
}

}  // namespace hwnas::estimate
