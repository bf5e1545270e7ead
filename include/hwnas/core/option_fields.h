#pragma once
// Options described once. An options struct lists its fields, with their JSON names and
// valid ranges, in one static template `fields(self, visitor)`; reading JSON, writing JSON
// and validating C++-built options all follow from that list:
//
//   struct EvolutionOptions {
//     HWNAS_ARG(int64_t, population) = 50;
//     HWNAS_ARG(int64_t, sample_size) = 10;
//    public:
//     template <typename Self, typename V> static void fields(Self& self, V& v) {
//       v.field("population", self.population_, 2, 1000000);
//       v.field("sample_size", self.sample_size_, 1, 1000000);
//     }
//   };
//   auto o = options::read<EvolutionOptions>(json, "evolution strategy config");  // ranges, types, unknown keys
//   nlohmann::json j = options::write(o);
//   options::check(o, "evolution options");  // the same ranges for options built in C++
// Rules between fields go in the struct's validate(), which calls check() first; every
// constructor taking the options calls validate(), so C++ and JSON users get the same checks.
#include <cmath>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwnas/core/config.h"
#include "hwnas/core/error.h"

namespace hwnas::options {

/// Reads each field from a JSON object (ConfigReader: types, ranges, unknown keys).
class Reader {
 public:
  Reader(const nlohmann::json& config, std::string what) : r_(config, std::move(what)) {}
  void field(const char* name, int64_t& v, int64_t lo, int64_t hi) { v = r_.get_int(name, v, lo, hi); }
  void field(const char* name, double& v, double lo, double hi) { v = r_.get_double(name, v, lo, hi); }
  void field(const char* name, bool& v) { v = r_.get_bool(name, v); }
  void field(const char* name, std::string& v, const std::vector<std::string>& allowed = {}) {
    v = r_.get_string(name, v, allowed);
  }
  void finish() const { r_.finish(); }

 private:
  ConfigReader r_;
};

/// Writes each field into a JSON object.
class Writer {
 public:
  void field(const char* name, int64_t v, int64_t, int64_t) { out[name] = v; }
  void field(const char* name, double v, double, double) { out[name] = v; }
  void field(const char* name, bool v) { out[name] = v; }
  void field(const char* name, const std::string& v, const std::vector<std::string>& = {}) { out[name] = v; }
  nlohmann::json out = nlohmann::json::object();
};

/// Checks each field's range (options built in C++).
class Checker {
 public:
  explicit Checker(std::string what) : what_(std::move(what)) {}
  void field(const char* name, int64_t v, int64_t lo, int64_t hi) const {
    HWNAS_CHECK_T(ConfigError, v >= lo && v <= hi, what_, ": ", name, " must be in [", lo, ", ", hi, "], but is ", v);
  }
  void field(const char* name, double v, double lo, double hi) const {
    HWNAS_CHECK_T(ConfigError, std::isfinite(v) && v >= lo && v <= hi, what_, ": ", name, " must be in [", lo, ", ",
                  hi, "], but is ", v);
  }
  void field(const char*, bool) const {}
  void field(const char* name, const std::string& v, const std::vector<std::string>& allowed = {}) const {
    if (allowed.empty()) return;
    std::string list;
    for (const auto& a : allowed) {
      if (a == v) return;
      list += (list.empty() ? "" : ", ") + a;
    }
    throw ConfigError(detail::concat(what_, ": ", name, " is '", v, "'; valid values: ", list));
  }

 private:
  std::string what_;
};

template <typename O>
O read(const nlohmann::json& config, const std::string& what) {
  O o;
  Reader r(config, what);
  O::fields(o, r);
  r.finish();
  return o;
}

template <typename O>
nlohmann::json write(const O& o) {
  Writer w;
  O::fields(o, w);
  return w.out;
}

template <typename O>
void check(const O& o, const std::string& what) {
  Checker c(what);
  O::fields(o, c);
}

}  // namespace hwnas::options
