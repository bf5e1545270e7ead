#pragma once
// ArchTable: rows of (arch, numeric columns), the exchange format for measurements,
// ground truth, tabular benchmarks and predictor training data.
//
// Files: CSV with a header row and an `arch` column (quote arch strings that contain
// commas, as OFA's JSON archs do), JSONL (one object per line with "arch" and numeric
// fields), or JSON (an array of such objects). Arch strings are parsed by the space, so a
// row that does not belong to it is an error naming the file and line.
#include <cstdint>
#include <string>
#include <vector>

#include "hwnas/core/arch.h"

namespace hwnas {

class SearchSpace;

struct ArchTable {
  /// Names of the numeric columns (without "arch").
  std::vector<std::string> columns;
  /// Columns with a value that is not a number (e.g. a device name): kept out of
  /// `columns`; asking for one is an error naming the first such cell.
  struct TextColumn {
    std::string name, value;
    int64_t line = 0;
  };
  std::vector<TextColumn> text_columns;
  std::vector<Arch> archs;
  /// values[row][column], in the order of `columns`; NaN where a JSON row lacks a field.
  std::vector<std::vector<double>> values;
  /// 1-based line (CSV, JSONL) or element index (JSON) of each row, for messages.
  std::vector<int64_t> lines;
  std::string path;

  size_t size() const { return archs.size(); }
  /// Index of a column; throws DataError listing the columns if absent.
  size_t column_index(const std::string& name) const;
  /// One column's values; throws DataError naming the first row (line) whose value is not
  /// finite when `require_finite`.
  std::vector<double> column(const std::string& name, bool require_finite = true) const;
};

/// Reads a CSV, JSONL or JSON file (chosen by extension; anything else is read as CSV).
/// Throws DataError naming the file, line and problem (missing `arch` column, wrong field
/// count, an arch the space cannot parse, no rows). Non-numeric columns are set aside
/// (see ArchTable::text_columns).
ArchTable read_arch_table(const std::string& path, const SearchSpace& space);

/// Writes rows as CSV (atomically); `values[row]` follows `columns`.
void write_arch_table_csv(const std::string& path, const std::vector<std::string>& columns,
                          const std::vector<Arch>& archs,
                          const std::vector<std::vector<double>>& values);

/// One CSV field, quoted when it contains a comma, quote or newline.
std::string csv_field(const std::string& s);

}  // namespace hwnas
