#include "experiment/record_json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <iterator>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace hwnas::experiment {
namespace {

// As nlohmann writes a double: null when not finite, else the shortest digits that read
// back exactly, laid out by nlohmann's rule (fixed for decimal exponents -4 < n <= 15, with
// ".0" after a whole number; otherwise d.ddde+XX).
void append_number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[64];
  char* end = std::to_chars(buf, buf + sizeof buf - 1, v, std::chars_format::scientific).ptr;
  *end = '\0';
  const char* p = buf;
  if (*p == '-') {
    out += '-';
    ++p;
  }
  const char* e = std::find(p, static_cast<const char*>(end), 'e');
  std::string digits;
  for (const char* q = p; q < e; ++q)
    if (*q != '.') digits += *q;
  const int k = static_cast<int>(digits.size()), n = std::atoi(e + 1) + 1;  // value = 0.digits * 10^n
  if (k <= n && n <= 15) {
    out += digits;
    out.append(static_cast<size_t>(n - k), '0');
    out += ".0";
  } else if (0 < n && n <= 15) {
    out.append(digits, 0, static_cast<size_t>(n));
    out += '.';
    out.append(digits, static_cast<size_t>(n), std::string::npos);
  } else if (-4 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-n), '0');
    out += digits;
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out.append(digits, 1, std::string::npos);
    }
    const int x = n - 1;
    fmt::format_to(std::back_inserter(out), "e{}{:02d}", x < 0 ? '-' : '+', x < 0 ? -x : x);
  }
}

void append_string(std::string& out, const std::string& s) {
  for (char c : s)
    if (c < 0x20 || c == '"' || c == '\\' || static_cast<unsigned char>(c) >= 0x80) {
      out += nlohmann::json(s).dump();  // escapes, and checks UTF-8
      return;
    }
  out += '"';
  out += s;
  out += '"';
}

void append_key(std::string& out, const char* key) {
  out += '"';
  out += key;
  out += "\":";
}

}  // namespace

nlohmann::json record_to_json(const Record& r) {
  nlohmann::json metrics = nlohmann::json::object();
  for (const auto& [k, v] : r.metrics) metrics[k] = std::isfinite(v) ? nlohmann::json(v) : nlohmann::json();
  nlohmann::json objectives = nlohmann::json::array();
  for (double v : r.objectives) objectives.push_back(std::isfinite(v) ? nlohmann::json(v) : nlohmann::json());
  nlohmann::json j = {{"index", r.index}, {"batch", r.batch}, {"arch", r.arch.str()}, {"metrics", metrics},
                      {"objectives", objectives}, {"violation", r.violation}, {"feasible", r.feasible()},
                      {"time_s", r.time_s}};
  if (!r.error.empty()) j["error"] = r.error;
  return j;
}

// Keys in nlohmann's (sorted) order: arch, batch, error, feasible, index, metrics,
// objectives, time_s, violation.
void append_record_line(std::string& out, const Record& r) {
  out += '{';
  append_key(out, "arch");
  append_string(out, r.arch.str());
  out += ',';
  append_key(out, "batch");
  fmt::format_to(std::back_inserter(out), "{}", r.batch);
  if (!r.error.empty()) {
    out += ',';
    append_key(out, "error");
    append_string(out, r.error);
  }
  out += ',';
  append_key(out, "feasible");
  out += r.feasible() ? "true" : "false";
  out += ',';
  append_key(out, "index");
  fmt::format_to(std::back_inserter(out), "{}", r.index);
  out += ",\"metrics\":{";
  bool first = true;
  for (const auto& [k, v] : r.metrics) {  // a std::map: sorted as nlohmann sorts
    if (!first) out += ',';
    first = false;
    append_string(out, k);
    out += ':';
    append_number(out, v);
  }
  out += "},\"objectives\":[";
  for (size_t i = 0; i < r.objectives.size(); ++i) {
    if (i) out += ',';
    append_number(out, r.objectives[i]);
  }
  out += "],";
  append_key(out, "time_s");
  append_number(out, r.time_s);
  out += ',';
  append_key(out, "violation");
  append_number(out, r.violation);
  out += "}\n";
}

}  // namespace hwnas::experiment
