#include "hwnas/core/arch_table.h"

#include <cmath>
#include <filesystem>
#include <unordered_map>
#include <fstream>
#include <limits>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "hwnas/core/error.h"
#include "hwnas/core/json.h"
#include "hwnas/core/io.h"
#include "hwnas/core/search_space.h"

namespace hwnas {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Splits a CSV line, honouring double quotes ("" inside quotes is a quote).
std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '"') {
      if (quoted && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else {
        quoted = !quoted;
      }
    } else if (c == ',' && !quoted) {
      out.emplace_back();
    } else if (c != '\r') {
      out.back() += c;
    }
  }
  return out;
}

enum class Cell { kNumber, kText, kNotFinite };

// A number, text, or a number that is not finite (nan, inf, 1e400: refused by the caller).
Cell parse_number(const std::string& s, double& out) {
  try {
    size_t used = 0;
    out = std::stod(s, &used);
    if (used != s.size()) return Cell::kText;
    return std::isfinite(out) ? Cell::kNumber : Cell::kNotFinite;
  } catch (const std::out_of_range&) {
    return Cell::kNotFinite;
  } catch (const std::exception&) {
    return Cell::kText;
  }
}

// Moves the columns marked as text out of `columns` and `values`.
void drop_text_columns(ArchTable& t, const std::vector<bool>& is_text) {
  std::vector<std::string> kept;
  for (size_t c = 0; c < t.columns.size(); ++c)
    if (!is_text[c]) kept.push_back(t.columns[c]);
  for (auto& row : t.values) {
    std::vector<double> r;
    for (size_t c = 0; c < row.size(); ++c)
      if (!is_text[c]) r.push_back(row[c]);
    row = std::move(r);
  }
  t.columns = std::move(kept);
}

void read_csv(std::istream& in, const SearchSpace& space, ArchTable& t) {
  std::string line;
  HWNAS_CHECK_T(DataError, static_cast<bool>(std::getline(in, line)), t.path,
                " is empty; give a CSV whose first line names the columns (arch,<metric>,...)");
  if (line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // a UTF-8 byte-order mark (spreadsheet exports)
  const auto header = split_csv(line);
  size_t arch_col = header.size();
  for (size_t i = 0; i < header.size(); ++i) {
    for (size_t j = 0; j < i; ++j)
      HWNAS_CHECK_T(DataError, header[j] != header[i], t.path, " line 1: the column name '", header[i],
                    "' appears twice (columns ", j + 1, " and ", i + 1, "); give every column its own name");
    if (header[i] == "arch") {
      arch_col = i;
    } else {
      HWNAS_CHECK_T(DataError, !header[i].empty(), t.path, " line 1: column ", i + 1, " has no name");
      t.columns.push_back(header[i]);
    }
  }
  HWNAS_CHECK_T(DataError, arch_col < header.size(), t.path,
                " needs an 'arch' column in its header row, but the header is: ", line,
                "; give the column of canonical arch strings the name 'arch'");
  std::vector<bool> is_text(t.columns.size(), false);
  for (int64_t row = 2; std::getline(in, line); ++row) {
    if (line.empty() || line == "\r") continue;
    const auto f = split_csv(line);
    const auto where = fmt::format("{} line {}", t.path, row);
    HWNAS_CHECK_T(DataError, f.size() == header.size(), where, ": expected ", header.size(),
                  " fields (as in the header), got ", f.size(),
                  "; quote arch strings that contain commas");
    std::vector<double> values;
    for (size_t i = 0; i < f.size(); ++i) {
      if (i == arch_col) continue;
      double v = std::numeric_limits<double>::quiet_NaN();
      const size_t c = values.size();
      const auto kind = parse_number(f[i], v);
      HWNAS_CHECK_T(DataError, kind != Cell::kNotFinite, where, ": column '", t.columns[c], "' holds '", f[i],
                    "', which is not a finite number; give a number or leave the row out");
      if (kind == Cell::kText && !is_text[c]) {
        is_text[c] = true;
        t.text_columns.push_back({t.columns[c], f[i], row});
      }
      values.push_back(v);
    }
    try {
      t.archs.push_back(space.parse(f[arch_col]));
    } catch (const Error& e) {
      throw DataError(fmt::format("{}: {}", where, e.what()));
    }
    t.values.push_back(std::move(values));
    t.lines.push_back(row);
  }
  drop_text_columns(t, is_text);
}

void add_json_row(const nlohmann::json& obj, const SearchSpace& space, ArchTable& t, int64_t line,
                  const std::string& where) {
  HWNAS_CHECK_T(DataError, obj.is_object() && obj.contains("arch"), where,
                ": expected an object with an \"arch\" field, got ", obj.dump().substr(0, 200));
  std::vector<double> values(t.columns.size(), std::numeric_limits<double>::quiet_NaN());
  for (const auto& item : obj.items()) {
    const auto& key = item.key();  // not a structured binding: lambdas below capture it
    const auto& value = item.value();
    if (key == "arch") continue;
    if (!value.is_number()) {
      if (std::none_of(t.text_columns.begin(), t.text_columns.end(), [&](const auto& tc) { return tc.name == key; }))
        t.text_columns.push_back({key, value.dump().substr(0, 80), line});
      continue;
    }
    size_t c = std::find(t.columns.begin(), t.columns.end(), key) - t.columns.begin();
    if (c == t.columns.size()) {
      t.columns.push_back(key);
      for (auto& r : t.values) r.push_back(std::numeric_limits<double>::quiet_NaN());
      values.push_back(0);
    }
    values[c] = value.get<double>();
  }
  try {
    const auto& a = obj["arch"];
    t.archs.push_back(a.is_string() ? space.parse(a.get<std::string>()) : space.from_json(a));
  } catch (const Error& e) {
    throw DataError(fmt::format("{}: {}", where, e.what()));
  }
  t.values.push_back(std::move(values));
  t.lines.push_back(line);
}

}  // namespace

size_t ArchTable::column_index(const std::string& name) const {
  for (const auto& tc : text_columns)
    HWNAS_CHECK_T(DataError, tc.name != name, path, " line ", tc.line, ": '", tc.value, "' is not a number (column '",
                  name, "')");
  const size_t c = std::find(columns.begin(), columns.end(), name) - columns.begin();
  HWNAS_CHECK_T(DataError, c < columns.size(), path, " has no column '", name, "'; its columns: ",
                fmt::format("{}", fmt::join(columns, ", ")));
  return c;
}

std::vector<double> ArchTable::column(const std::string& name, bool require_finite) const {
  const size_t c = column_index(name);
  std::vector<double> out;
  out.reserve(values.size());
  for (size_t r = 0; r < values.size(); ++r) {
    HWNAS_CHECK_T(DataError, !require_finite || std::isfinite(values[r][c]), path, " line ", lines[r],
                  ": '", name, "' is ", values[r][c], " (", archs[r].str(), "); fix or remove that row");
    out.push_back(values[r][c]);
  }
  return out;
}

ArchTable read_arch_table(const std::string& path, const SearchSpace& space) {
  ArchTable t;
  t.path = path;
  std::error_code ec;
  HWNAS_CHECK_T(DataError, !std::filesystem::is_directory(path, ec), "'", path,
                "' is a directory; give a CSV, JSONL or JSON file of archs");
  std::ifstream in(path);
  HWNAS_CHECK_T(DataError, in.good(), "Cannot read '", path, "': no such file or not readable");
  if (ends_with(path, ".jsonl")) {
    std::string line;
    for (int64_t row = 1; std::getline(in, line); ++row) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      const auto where = fmt::format("{} line {}", path, row);
      const auto obj = parse_json(line, where);
      add_json_row(obj, space, t, row, where);
    }
  } else if (ends_with(path, ".json")) {
    const auto doc = read_json_file(path, "arch table");
    HWNAS_CHECK_T(DataError, doc.is_array(), path, " must hold a JSON array of {\"arch\": ..., <metric>: <number>} objects");
    for (size_t i = 0; i < doc.size(); ++i) add_json_row(doc[i], space, t, static_cast<int64_t>(i), fmt::format("{} element {}", path, i));
  } else {
    read_csv(in, space, t);
  }
  HWNAS_CHECK_T(DataError, !t.archs.empty(), path, " has no data rows");
  // One row per arch: a repeated arch makes its metrics ambiguous.
  std::unordered_map<std::string, size_t> first_row;
  for (size_t r = 0; r < t.archs.size(); ++r) {
    const auto [it, fresh] = first_row.emplace(t.archs[r].str(), r);
    HWNAS_CHECK_T(DataError, fresh, path, " line ", t.lines[r], ": arch ", t.archs[r].str(), " already appears on line ",
                  t.lines[it->second], "; keep one row per arch (average repeated measurements first)");
  }
  // A JSON field that is numeric in some rows and not in others is a text column too.
  std::vector<bool> is_text(t.columns.size(), false);
  for (size_t c = 0; c < t.columns.size(); ++c)
    for (const auto& tc : t.text_columns) is_text[c] = is_text[c] || tc.name == t.columns[c];
  drop_text_columns(t, is_text);
  return t;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

void write_arch_table_csv(const std::string& path, const std::vector<std::string>& columns,
                          const std::vector<Arch>& archs, const std::vector<std::vector<double>>& values) {
  std::ostringstream out;
  out << "arch";
  for (const auto& c : columns) out << ',' << csv_field(c);
  out << '\n';
  for (size_t r = 0; r < archs.size(); ++r) {
    out << csv_field(archs[r].str());
    for (double v : values[r]) out << ',' << fmt::format("{}", v);
    out << '\n';
  }
  write_file_atomic(path, out.str());
}

}  // namespace hwnas
