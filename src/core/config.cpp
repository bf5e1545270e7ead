#include "hwnas/core/json_number.h"
#include "hwnas/core/config.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "hwnas/core/error.h"
#include "hwnas/core/json.h"

namespace hwnas {

ConfigReader::ConfigReader(const nlohmann::json& config, std::string what)
    : config_(config.is_null() ? nlohmann::json::object() : config), what_(std::move(what)) {
  HWNAS_CHECK_T(ConfigError, config_.is_object(), "Expected the ", what_,
                " to be a JSON object, but got: ", config_.dump());
}

bool ConfigReader::has(const std::string& key) const { return config_.contains(key); }

const nlohmann::json* ConfigReader::find(const std::string& key) {
  read_.insert(key);
  auto it = config_.find(key);
  return it == config_.end() ? nullptr : &*it;
}

int64_t ConfigReader::get_int(const std::string& key, int64_t fallback, int64_t min, int64_t max) {
  const auto* v = find(key);
  if (!v) return fallback;
  HWNAS_CHECK_T(ConfigError, v->is_number_integer(), "Expected '", key, "' in the ", what_,
                " to be an integer in [", min, ", ", max, "], but got ", v->dump());
  const int64_t x = json_integer<int64_t>(*v, "'" + key + "' in the " + what_);
  HWNAS_CHECK_T(ConfigError, x >= min && x <= max, "Expected '", key, "' in the ", what_,
                " to be in [", min, ", ", max, "], but got ", x);
  return x;
}

double ConfigReader::get_double(const std::string& key, double fallback, double min, double max) {
  const auto* v = find(key);
  if (!v) return fallback;
  HWNAS_CHECK_T(ConfigError, v->is_number(), "Expected '", key, "' in the ", what_,
                " to be a number in [", min, ", ", max, "], but got ", v->dump());
  const double x = v->get<double>();
  HWNAS_CHECK_T(ConfigError, std::isfinite(x) && x >= min && x <= max, "Expected '", key,
                "' in the ", what_, " to be in [", min, ", ", max, "], but got ", x);
  return x;
}

bool ConfigReader::get_bool(const std::string& key, bool fallback) {
  const auto* v = find(key);
  if (!v) return fallback;
  HWNAS_CHECK_T(ConfigError, v->is_boolean(), "Expected '", key, "' in the ", what_,
                " to be true or false, but got ", v->dump());
  return v->get<bool>();
}

std::string ConfigReader::get_string(const std::string& key, const std::string& fallback,
                                     const std::vector<std::string>& allowed) {
  const auto* v = find(key);
  if (!v) return fallback;
  std::string allowed_list;
  for (const auto& a : allowed) allowed_list += (allowed_list.empty() ? "" : ", ") + a;
  HWNAS_CHECK_T(ConfigError, v->is_string(), "Expected '", key, "' in the ", what_,
                " to be a string", allowed.empty() ? "" : " (one of ", allowed_list,
                allowed.empty() ? "" : ")", ", but got ", v->dump());
  auto s = v->get<std::string>();
  if (!allowed.empty()) {
    bool ok = false;
    for (const auto& a : allowed) ok = ok || a == s;
    HWNAS_CHECK_T(ConfigError, ok, "Unknown value '", s, "' for '", key, "' in the ", what_,
                  "; allowed: ", allowed_list);
  }
  return s;
}

std::vector<int64_t> ConfigReader::get_int_list(const std::string& key,
                                                const std::vector<int64_t>& fallback, int64_t min,
                                                int64_t max) {
  const auto* v = find(key);
  if (!v) return fallback;
  HWNAS_CHECK_T(ConfigError, v->is_array(), "Expected '", key, "' in the ", what_,
                " to be a list of integers, but got ", v->dump());
  std::vector<int64_t> out;
  for (size_t i = 0; i < v->size(); ++i) {
    const auto& e = (*v)[i];
    const auto item = detail::concat("'", key, "[", i, "]' in the ", what_);
    const int64_t x = e.is_number_integer() ? json_integer<int64_t>(e, item) : 0;
    HWNAS_CHECK_T(ConfigError, e.is_number_integer() && x >= min && x <= max, "Expected ", item,
                  " to be an integer in [", min, ", ", max, "], but got ", e.dump());
    out.push_back(x);
  }
  return out;
}

nlohmann::json ConfigReader::get_json(const std::string& key, const nlohmann::json& fallback) {
  const auto* v = find(key);
  return v ? *v : fallback;
}

void ConfigReader::finish() const {
  std::string unknown, known;
  for (const auto& [k, v] : config_.items())
    if (!read_.count(k)) unknown += (unknown.empty() ? "'" : ", '") + k + "'";
  for (const auto& k : read_) known += (known.empty() ? "" : ", ") + k;
  HWNAS_CHECK_T(ConfigError, unknown.empty(), "Unknown key ", unknown, " in the ", what_,
                "; valid keys: ", known);
}

nlohmann::json parse_json_arg(const std::string& text, const std::string& what) {
  if (!text.empty() && text[0] == '@') return read_json_file(text.substr(1), what + " file");
  return parse_json(text, what);
}

}  // namespace hwnas
