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
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwnas/core/config.h"
#include "hwnas/core/error.h"

namespace hwnas::options {

/// The type of a field's bounds: the field's own (not deduced from the bounds, so
/// `v.field("lr", self.lr_, 0, 1)` takes the ints as doubles).
template <typename T>
using Same = typename std::common_type<T>::type;

/// Reads each field from a JSON object (ConfigReader: types, ranges, unknown keys).
class Reader {
 public:
  Reader(const nlohmann::json& config, std::string what) : r_(config, what), what_(std::move(what)) {}
  /// A number in [lo, hi] (the bounds take the field's type).
  template <typename T>
  void field(const char* name, T& v, Same<T> lo, Same<T> hi) {
    if constexpr (std::is_floating_point_v<T>)
      v = r_.get_double(name, v, lo, hi);
    else
      v = static_cast<T>(r_.get_int(name, static_cast<int64_t>(v), static_cast<int64_t>(lo), static_cast<int64_t>(hi)));
  }
  /// A list of whole numbers, each in [lo, hi].
  void field(const char* name, std::vector<int64_t>& v, int64_t lo, int64_t hi) { v = r_.get_int_list(name, v, lo, hi); }
  /// A struct of options with its own fields(), as a JSON object under `name`.
  template <typename O>
  void nested(const char* name, O& o) {
    Reader sub(r_.get_json(name, nlohmann::json::object()), what_ + " \"" + name + "\"");
    O::fields(o, sub);
    sub.finish();
  }
  void field(const char* name, bool& v) { v = r_.get_bool(name, v); }
  /// A switch that is off by default and written only when on, so configs written before
  /// it existed keep their bytes (and the tables and runs keyed by them still match).
  void flag(const char* name, bool& v) { v = r_.get_bool(name, v); }
  void field(const char* name, uint64_t& v) {  // seeds: 0 .. 2^63-1 in JSON
    v = static_cast<uint64_t>(r_.get_int(name, static_cast<int64_t>(std::min<uint64_t>(v, INT64_MAX)), 0, INT64_MAX));
  }
  void field(const char* name, std::string& v, const std::vector<std::string>& allowed = {}) {
    v = r_.get_string(name, v, allowed);
  }
  /// A JSON object kept as it is (read by another reader, e.g. a predictor's options).
  void object(const char* name, nlohmann::json& v) {
    v = r_.get_json(name, v);
    HWNAS_CHECK_T(ConfigError, v.is_object(), what_, ": \"", name, "\" must be a JSON object such as {}, got ", v.dump());
  }
  void finish() const { r_.finish(); }

 private:
  ConfigReader r_;
  std::string what_;
};

/// Writes each field into a JSON object.
class Writer {
 public:
  template <typename T>
  void field(const char* name, const T& v, Same<T>, Same<T>) { out[name] = v; }
  void field(const char* name, const std::vector<int64_t>& v, int64_t, int64_t) { out[name] = v; }
  template <typename O>
  void nested(const char* name, const O& o) {
    Writer sub;
    O::fields(o, sub);
    out[name] = sub.out;
  }
  void field(const char* name, bool v) { out[name] = v; }
  void flag(const char* name, bool v) {
    if (v) out[name] = true;
  }
  void field(const char* name, uint64_t v) { out[name] = v; }
  void field(const char* name, const std::string& v, const std::vector<std::string>& = {}) { out[name] = v; }
  void object(const char* name, const nlohmann::json& v) { out[name] = v; }
  nlohmann::json out = nlohmann::json::object();
};

/// Checks each field's range (options built in C++).
class Checker {
 public:
  explicit Checker(std::string what) : what_(std::move(what)) {}
  template <typename T>
  void field(const char* name, const T& v, Same<T> lo, Same<T> hi) const {
    HWNAS_CHECK_T(ConfigError, (!std::is_floating_point_v<T> || std::isfinite(static_cast<double>(v))) && v >= lo && v <= hi,
                  what_, ": ", name, " must be in [", lo, ", ", hi, "], but is ", v);
  }
  void field(const char* name, const std::vector<int64_t>& v, int64_t lo, int64_t hi) const {
    for (size_t i = 0; i < v.size(); ++i)
      HWNAS_CHECK_T(ConfigError, v[i] >= lo && v[i] <= hi, what_, ": ", name, "[", i, "] must be in [", lo, ", ", hi,
                    "], but is ", v[i]);
  }
  template <typename O>
  void nested(const char* name, const O& o) const {
    Checker sub(what_ + "." + name);
    O::fields(o, sub);
  }
  void field(const char*, bool) const {}
  void flag(const char*, bool) const {}
  void field(const char*, uint64_t) const {}
  void object(const char* name, const nlohmann::json& v) const {
    HWNAS_CHECK_T(ConfigError, v.is_object(), what_, ": ", name, " must be a JSON object, but is ", v.dump());
  }
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
