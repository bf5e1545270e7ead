#include "hwnas/experiment/config.h"

#include <cctype>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include "hwnas/core/config.h"
#include "hwnas/core/error.h"
#include "hwnas/core/json.h"
#include "hwnas/core/io.h"

namespace hwnas::experiment {
namespace {

namespace fs = std::filesystem;

std::string resolve(const std::string& path, const std::string& base) {
  if (path.empty() || base.empty() || fs::path(path).is_absolute()) return path;
  return (fs::path(base) / path).lexically_normal().string();
}

// A name or {"name": ..., "config"|options...}: returns (name, the rest).
std::pair<std::string, nlohmann::json> named(const nlohmann::json& v, const std::string& field, bool nested_config) {
  if (v.is_string()) return {v.get<std::string>(), nlohmann::json::object()};
  HWNAS_CHECK_T(ConfigError, v.is_object() && v.contains("name") && v["name"].is_string(), "experiment config: \"",
                field, "\" must be a name or an object with \"name\", got ", v.dump());
  auto rest = v;
  rest.erase("name");
  if (!nested_config) return {v["name"].get<std::string>(), rest};
  ConfigReader r(rest, fmt::format("experiment config \"{}\"", field));
  auto config = r.get_json("config", nlohmann::json::object());
  r.finish();
  return {v["name"].get<std::string>(), config};
}

}  // namespace

Constraint Constraint::parse(const std::string& text) {
  const auto fail = [&](const std::string& why) {
    return ParseError(fmt::format("Constraint '{}': {}; write e.g. \"latency@cpu <= 8 ms\" or \"params <= 2e6\"", text, why));
  };
  size_t pos = text.find_first_of("<>");
  if (pos == std::string::npos) throw fail("no comparison (<=, <, >=, >)");
  Constraint c;
  c.text = text;
  const auto trim = [](std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    size_t i = 0;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    return s.substr(i);
  };
  c.metric = trim(text.substr(0, pos));
  if (c.metric.empty()) throw fail("no metric before the comparison");
  const bool less = text[pos] == '<';
  const bool equal = pos + 1 < text.size() && text[pos + 1] == '=';
  c.op = less ? (equal ? Op::kLessEqual : Op::kLess) : (equal ? Op::kGreaterEqual : Op::kGreater);
  auto rest = trim(text.substr(pos + (equal ? 2 : 1)));
  if (rest.empty()) throw fail("no limit after the comparison");
  size_t used = 0;
  try {
    c.limit = std::stod(rest, &used);
  } catch (const std::exception&) {
    throw fail(fmt::format("the limit '{}' is not a number", rest));
  }
  if (!std::isfinite(c.limit)) throw fail("the limit must be finite");
  const auto unit = trim(rest.substr(used));
  const bool latency = c.metric.rfind("latency@", 0) == 0;
  static const std::map<std::string, double> time_units = {{"", 1}, {"ms", 1}, {"us", 1e-3}, {"s", 1e3}};
  static const std::map<std::string, double> count_units = {{"", 1},         {"K", 1e3},         {"k", 1e3},
                                                            {"M", 1e6},      {"G", 1e9},         {"KiB", 1024.0},
                                                            {"MiB", 1048576.0}, {"GiB", 1073741824.0}};
  const auto& units = latency ? time_units : count_units;
  const auto it = units.find(unit);
  if (it == units.end())
    throw fail(fmt::format("unknown unit '{}' for {} (use {})", unit, c.metric,
                           latency ? "us, ms or s" : "K, M, G, KiB, MiB or GiB, or none"));
  c.limit *= it->second;
  return c;
}

double Constraint::violation(double value) const {
  if (std::isnan(value)) return 1.0;
  const double scale = std::max(std::abs(limit), 1e-12);
  switch (op) {
    case Op::kLessEqual: return value <= limit ? 0 : (value - limit) / scale;
    case Op::kGreaterEqual: return value >= limit ? 0 : (limit - value) / scale;
    // Strict comparisons: a value exactly at the limit misses it by a hair.
    case Op::kLess: return value < limit ? 0 : std::max(value - limit, 1e-12 * scale) / scale;
    case Op::kGreater: return value > limit ? 0 : std::max(limit - value, 1e-12 * scale) / scale;
  }
  return 0;
}

ExperimentConfig ExperimentConfig::from_json(const nlohmann::json& j, const std::string& base) {
  HWNAS_CHECK_T(ConfigError, j.is_object(), "experiment config: expected a JSON object, got ", j.dump());
  ExperimentConfig c;
  ConfigReader r(j, "experiment config");
  std::tie(c.space_, c.space_config_) = named(r.get_json("space", c.space_), "space", true);
  std::tie(c.strategy_, c.strategy_config_) = named(r.get_json("strategy", c.strategy_), "strategy", false);
  c.evaluator_ = r.get_json("evaluator", c.evaluator_);
  HWNAS_CHECK_T(ConfigError, c.evaluator_.is_object(), "experiment config: \"evaluator\" must be an object such as "
                "{\"name\": \"tabular\", \"table\": \"t.csv\"}, got ", c.evaluator_.dump());
  for (const char* key : {"table", "predictor", "supernet"})
    if (c.evaluator_.contains(key) && c.evaluator_[key].is_string())
      c.evaluator_[key] = resolve(c.evaluator_[key].get<std::string>(), base);
  if (c.evaluator_.contains("data") && c.evaluator_["data"].is_object() && c.evaluator_["data"].contains("dir") &&
      c.evaluator_["data"]["dir"].is_string())
    c.evaluator_["data"]["dir"] = resolve(c.evaluator_["data"]["dir"].get<std::string>(), base);

  const auto tables = r.get_json("latency_tables", nlohmann::json::object());
  HWNAS_CHECK_T(ConfigError, tables.is_object(), "experiment config: \"latency_tables\" must map device names to "
                "table files, e.g. {\"note10\": \"note10.json\"}");
  for (const auto& [device, path] : tables.items()) {
    HWNAS_CHECK_T(ConfigError, path.is_string(), "experiment config: latency table of '", device, "' must be a file name");
    c.latency_tables_[device] = resolve(path.get<std::string>(), base);
  }

  c.cost_models_ = r.get_json("cost_models", c.cost_models_);
  HWNAS_CHECK_T(ConfigError, c.cost_models_.is_array(), "experiment config: \"cost_models\" must be a list such as "
                "[{\"name\": \"analytic\"}], got ", c.cost_models_.dump());
  for (auto& m : c.cost_models_) {
    HWNAS_CHECK_T(ConfigError, m.is_object() && m.contains("name") && m["name"].is_string(), "experiment config: "
                  "cost model ", m.dump(), " must be an object with a \"name\" (see hwnas cost-models)");
    for (const char* key : {"table", "model", "predictor"})
      if (m.contains(key) && m[key].is_string()) m[key] = resolve(m[key].get<std::string>(), base);
  }

  const auto objectives = r.get_json("objectives", nlohmann::json::array());
  HWNAS_CHECK_T(ConfigError, objectives.is_array() && !objectives.empty(), "experiment config: \"objectives\" must be a "
                "non-empty list such as [{\"metric\": \"val_accuracy\", \"goal\": \"max\"}]");
  for (const auto& o : objectives) {
    ConfigReader ro(o.is_object() ? o : nlohmann::json::object(), "objective");
    HWNAS_CHECK_T(ConfigError, o.is_object(), "experiment config: objective ", o.dump(),
                  " must be an object {\"metric\": NAME, \"goal\": \"max\" or \"min\"}");
    strategy::Objective obj;
    obj.name = ro.get_string("metric", "");
    HWNAS_CHECK_T(ConfigError, !obj.name.empty(), "experiment config: objective ", o.dump(), " has no \"metric\"");
    const auto goal = ro.get_string("goal", "", {"max", "min"});
    HWNAS_CHECK_T(ConfigError, !goal.empty(), "experiment config: objective '", obj.name,
                  "' needs \"goal\": \"max\" or \"min\"");
    obj.direction = goal == "max" ? strategy::Direction::kMaximize : strategy::Direction::kMinimize;
    ro.finish();
    c.objectives_.push_back(obj);
  }
  const auto constraints = r.get_json("constraints", nlohmann::json::array());
  HWNAS_CHECK_T(ConfigError, constraints.is_array(), "experiment config: \"constraints\" must be a list of strings "
                "such as [\"latency@cpu <= 8 ms\"]");
  for (const auto& s : constraints) {
    HWNAS_CHECK_T(ConfigError, s.is_string(), "experiment config: constraint ", s.dump(), " must be a string");
    c.constraints_.push_back(s.get<std::string>());
  }
  ConfigReader rb(r.get_json("budget", nlohmann::json::object()), "experiment config \"budget\"");
  c.budget_.evaluations(rb.get_int("evaluations", c.budget_.evaluations(), 0, int64_t{1} << 50));
  c.budget_.seconds(rb.get_double("seconds", c.budget_.seconds(), 0, 1e9));
  rb.finish();
  HWNAS_CHECK_T(ConfigError, c.budget_.evaluations() > 0 || c.budget_.seconds() > 0, "experiment config: the budget is "
                "zero; set \"budget\": {\"evaluations\": N} and/or {\"seconds\": S} to a positive value");
  c.seed_ = static_cast<uint64_t>(r.get_int("seed", 0, 0, std::numeric_limits<int64_t>::max()));
  c.batch_size_ = r.get_int("batch_size", c.batch_size_, 1, 1000000);
  c.threads_ = r.get_int("threads", c.threads_, 1, 1024);
  c.checkpoint_every_ = r.get_int("checkpoint_every", c.checkpoint_every_, 1, 1000000000);
  const auto ref = r.get_json("reference_point", nlohmann::json::array());
  HWNAS_CHECK_T(ConfigError, ref.is_array() && (ref.empty() || ref.size() == c.objectives_.size()),
                "experiment config: \"reference_point\" must list one number per objective (", c.objectives_.size(), ")");
  for (const auto& v : ref) {
    HWNAS_CHECK_T(ConfigError, v.is_number() && std::isfinite(v.get<double>()), "experiment config: \"reference_point\" "
                  "values must be finite numbers, got ", v.dump());
    c.reference_point_.push_back(v.get<double>());
  }
  c.output_ = resolve(r.get_string("output", ""), base);
  r.finish();
  c.parsed_constraints();  // reports a malformed constraint now
  return c;
}

ExperimentConfig ExperimentConfig::load(const std::string& path) {
  const auto j = read_json_file(path, "experiment config");
  try {
    return from_json(j, fs::path(path).parent_path().string());
  } catch (const ConfigError& e) {
    throw ConfigError(fmt::format("{}: {}", path, e.what()));
  } catch (const ParseError& e) {
    throw ParseError(fmt::format("{}: {}", path, e.what()));
  }
}

nlohmann::json ExperimentConfig::to_json() const {
  nlohmann::json objectives = nlohmann::json::array();
  for (const auto& o : objectives_)
    objectives.push_back({{"metric", o.name}, {"goal", o.direction == strategy::Direction::kMaximize ? "max" : "min"}});
  auto strategy = strategy_config_;
  strategy["name"] = strategy_;
  nlohmann::json out = {{"space", {{"name", space_}, {"config", space_config_}}},
          {"strategy", strategy},
          {"evaluator", evaluator_},
          {"latency_tables", latency_tables_},
          {"objectives", objectives},
          {"constraints", constraints_},
          {"budget", {{"evaluations", budget_.evaluations()}, {"seconds", budget_.seconds()}}},
          {"seed", seed_},
          {"batch_size", batch_size_},
          {"threads", threads_},
          {"checkpoint_every", checkpoint_every_},
          {"reference_point", reference_point_},
          {"output", output_}};
  if (!cost_models_.empty()) out["cost_models"] = cost_models_;  // absent: the default (and earlier runs' files)
  return out;
}

std::vector<Constraint> ExperimentConfig::parsed_constraints() const {
  std::vector<Constraint> out;
  for (const auto& s : constraints_) out.push_back(Constraint::parse(s));
  return out;
}

}  // namespace hwnas::experiment
