#include "hwnas/core/layer_spec.h"

#include <algorithm>
#include <ostream>

#include "hwnas/core/error.h"

namespace hwnas {

std::string Shape::str() const {
  return std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w);
}

Shape Shape::parse(const std::string& s) {
  int64_t v[3] = {0, 0, 0};
  size_t pos = 0;
  for (int i = 0; i < 3; ++i) {
    size_t end = pos;
    while (end < s.size() && s[end] >= '0' && s[end] <= '9') ++end;
    HWNAS_CHECK_T(ParseError, end > pos && end - pos <= 9,
                  "Expected a shape CxHxW of positive integers (e.g. 3x32x32), but got '", s,
                  "' (no number at character ", pos + 1, ")");
    v[i] = std::stoll(s.substr(pos, end - pos));
    HWNAS_CHECK_T(ParseError, v[i] > 0,
                  "Expected a shape CxHxW of positive integers (e.g. 3x32x32), but got '", s,
                  "' (zero at character ", pos + 1, ")");
    pos = end;
    if (i < 2) {
      HWNAS_CHECK_T(ParseError, pos < s.size() && s[pos] == 'x',
                    "Expected a shape CxHxW of positive integers (e.g. 3x32x32), but got '", s,
                    "' (expected 'x' at character ", pos + 1, ")");
      ++pos;
    }
  }
  HWNAS_CHECK_T(ParseError, pos == s.size(),
                "Expected a shape CxHxW of positive integers (e.g. 3x32x32), but got '", s,
                "' (stray characters from character ", pos + 1, ")");
  return Shape{v[0], v[1], v[2]};
}

std::ostream& operator<<(std::ostream& out, const Shape& s) { return out << s.str(); }

LayerSpec::LayerSpec(std::string kind_, Shape input_, Shape output_,
                     std::vector<std::pair<std::string, int64_t>> attrs_, std::string name_)
    : kind(std::move(kind_)),
      input(input_),
      output(output_),
      attrs(std::move(attrs_)),
      name(std::move(name_)) {
  std::sort(attrs.begin(), attrs.end());
}

std::string LayerSpec::key() const {
  std::string k = kind + "-in:" + input.str() + "-out:" + output.str();
  // attrs are sorted on construction; sort a copy in case a caller edited them since.
  auto sorted = attrs;
  std::sort(sorted.begin(), sorted.end());
  for (const auto& [n, v] : sorted) k += "-" + n + ":" + std::to_string(v);
  return k;
}

LayerSpec LayerSpec::from_key(const std::string& key) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t dash = key.find('-', start);
    parts.push_back(key.substr(start, dash == std::string::npos ? std::string::npos : dash - start));
    if (dash == std::string::npos) break;
    start = dash + 1;
  }
  HWNAS_CHECK_T(ParseError, parts.size() >= 3 && !parts[0].empty() && parts[1].rfind("in:", 0) == 0 &&
                                parts[2].rfind("out:", 0) == 0,
                "Invalid layer key '", key, "': expected kind-in:CxHxW-out:CxHxW[-attr:value...]");
  LayerSpec l;
  l.kind = parts[0];
  l.input = Shape::parse(parts[1].substr(3));
  l.output = Shape::parse(parts[2].substr(4));
  for (size_t i = 3; i < parts.size(); ++i) {
    const size_t colon = parts[i].find(':');
    HWNAS_CHECK_T(ParseError, colon != std::string::npos && colon > 0 && colon + 1 < parts[i].size(),
                  "Invalid layer key '", key, "': attribute '", parts[i], "' is not name:value");
    try {
      size_t used = 0;
      const std::string value = parts[i].substr(colon + 1);
      l.attrs.emplace_back(parts[i].substr(0, colon), std::stoll(value, &used));
      HWNAS_CHECK_T(ParseError, used == value.size(), "Invalid layer key '", key, "': attribute '", parts[i],
                    "' has a non-integer value");
    } catch (const std::logic_error&) {
      throw ParseError(detail::concat("Invalid layer key '", key, "': attribute '", parts[i],
                                      "' has a non-integer value"));
    }
  }
  std::sort(l.attrs.begin(), l.attrs.end());
  return l;
}

int64_t LayerSpec::attr(const std::string& attr_name) const {
  for (const auto& [n, v] : attrs)
    if (n == attr_name) return v;
  throw NotFoundError(detail::concat("Layer '", key(), "' has no attribute '", attr_name, "'"));
}

int64_t LayerSpec::attr_or(const std::string& attr_name, int64_t fallback) const noexcept {
  for (const auto& [n, v] : attrs)
    if (n == attr_name) return v;
  return fallback;
}

}  // namespace hwnas
