#pragma once
// ConfigReader: reads an options object from JSON with typed, range-checked fields, and
// refuses unknown keys (a typo in a config must never be silently ignored).
//
// Example:
//   ConfigReader r(config, "nb201 space config");
//   opts.channels(r.get_int("channels", opts.channels(), 1, 4096));
//   r.finish();   // throws ConfigError listing the valid keys if any key was not read
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace hwnas {

class ConfigReader {
 public:
  /// `what` names the object in messages, e.g. "nb201 space config".
  ConfigReader(const nlohmann::json& config, std::string what);

  bool has(const std::string& key) const;
  int64_t get_int(const std::string& key, int64_t fallback, int64_t min, int64_t max);
  double get_double(const std::string& key, double fallback, double min, double max);
  bool get_bool(const std::string& key, bool fallback);
  std::string get_string(const std::string& key, const std::string& fallback,
                         const std::vector<std::string>& allowed = {});
  std::vector<int64_t> get_int_list(const std::string& key, const std::vector<int64_t>& fallback,
                                    int64_t min, int64_t max);
  /// A raw JSON value (for nested objects read by another reader).
  nlohmann::json get_json(const std::string& key, const nlohmann::json& fallback);
  /// Throws ConfigError if the config has keys that were never read.
  void finish() const;

 private:
  const nlohmann::json* find(const std::string& key);
  nlohmann::json config_;
  std::string what_;
  std::set<std::string> read_;
};

/// Parses a JSON text given on a command line or in a file ("@path" reads the file).
nlohmann::json parse_json_arg(const std::string& text, const std::string& what);

}  // namespace hwnas
