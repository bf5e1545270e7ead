#pragma once
// Arch: one point of a search space. Its genes are the space's choice indices; its
// canonical string (e.g. NAS-Bench-201's `|nor_conv_3x3~0|+|...|`) is the key used
// everywhere: logs, tables, caches. Archs are made by a SearchSpace (sample, parse,
// make), which guarantees that genes and string agree.
#include <cstddef>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace hwnas {

class Arch {
 public:
  /// An empty arch (belongs to no space); see SearchSpace::make / parse / sample.
  Arch() = default;
  Arch(std::string space, std::vector<int> genes, std::string canonical);

  /// Registry name of the space this arch belongs to.
  const std::string& space() const noexcept { return space_; }
  /// One index per choice of the space (SearchSpace::choices()).
  const std::vector<int>& genes() const noexcept { return genes_; }
  /// The canonical string.
  const std::string& str() const noexcept { return str_; }
  bool empty() const noexcept { return space_.empty(); }

  /// {"space": ..., "arch": canonical string, "genes": [...]}; read back with
  /// SearchSpace::from_json, which checks that string and genes agree.
  nlohmann::json to_json() const;

  friend bool operator==(const Arch& a, const Arch& b) {
    return a.space_ == b.space_ && a.genes_ == b.genes_;
  }
  friend bool operator!=(const Arch& a, const Arch& b) { return !(a == b); }
  /// Orders by space, then canonical string (for sorted containers and stable output).
  friend bool operator<(const Arch& a, const Arch& b) {
    return a.space_ != b.space_ ? a.space_ < b.space_ : a.str_ < b.str_;
  }

 private:
  std::string space_;
  std::vector<int> genes_;
  std::string str_;
};

std::ostream& operator<<(std::ostream& out, const Arch& arch);

}  // namespace hwnas

template <>
struct std::hash<hwnas::Arch> {
  size_t operator()(const hwnas::Arch& a) const noexcept {
    return std::hash<std::string>{}(a.str()) ^ (std::hash<std::string>{}(a.space()) << 1);
  }
};
