#include "hwnas/core/json.h"

#include <filesystem>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwnas/core/error.h"
#include "hwnas/core/io.h"

namespace hwnas {
namespace {

using json = nlohmann::json;

// Line and column (1-based) of byte `position` of `text`.
std::string where(std::string_view text, size_t position) {
  size_t line = 1, column = 1;
  for (size_t i = 0; i < std::min(position, text.size()); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return detail::concat("line ", line, ", column ", column);
}

// A SAX handler that builds the document like nlohmann's own DOM parser and refuses what
// parse_json promises to refuse. It keeps the path of the value being read for messages.
class Builder {
 public:
  Builder(json& root, std::string_view text, const std::string& source) : root_(root), text_(text), source_(source) {}

  bool null() { return put(json(nullptr)); }
  bool boolean(bool v) { return put(json(v)); }
  bool number_integer(json::number_integer_t v) { return put(json(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return put(json(v)); }
  // Overflowing numbers (1e400) never get here: nlohmann reports them as error 406.
  bool number_float(json::number_float_t v, const json::string_t&) { return put(json(v)); }
  bool string(json::string_t& v) { return put(json(std::move(v))); }
  bool binary(json::binary_t& v) { return put(json::binary(std::move(v))); }
  bool start_object(size_t) { return open(json::object()); }
  bool start_array(size_t) { return open(json::array()); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool key(json::string_t& k) {
    auto& level = levels_.back();
    if (!level.keys.insert(k).second)
      throw ParseError(detail::concat(source_, ": the key \"", k, "\" appears twice in the object at ",
                                      path(levels_.size() - 1), "; keep one of the two"));
    level.key = k;
    return true;
  }
  bool parse_error(size_t position, const std::string& token, const nlohmann::detail::exception& e) {
    if (e.id == 406)  // out_of_range.406: a number that overflows a double
      throw ParseError(detail::concat(source_, ": the number ", token, " at ", path(), " (", where(text_, position),
                                      ") is outside the range of a double (about 1.8e308); write a smaller value"));
    std::string message = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 2: syntax error ..."
    if (message.rfind("[json.exception.", 0) == 0) message = message.substr(message.find("] ") + 2);
    if (const auto colon = message.find(": "); message.rfind("parse error at line", 0) == 0 && colon != std::string::npos)
      message = message.substr(colon + 2);
    throw ParseError(detail::concat(source_, " is not valid JSON (", where(text_, position), ": ", message,
                                    "); fix the document or give another file"));
  }

 private:
  struct Level {
    json* value;
    std::unordered_set<std::string> keys;  // objects: the keys seen so far
    std::string key;                        // objects: the key of the value being read
  };

  // JSON-pointer-like path of the value being read: in an array, the innermost level's
  // next value is at size(), an outer level's current value at size() - 1.
  std::string path() const { return path(levels_.size()); }
  // The path of the first `depth` levels.
  std::string path(size_t depth) const {
    std::string p;
    for (size_t i = 0; i < depth; ++i) {
      const auto& l = levels_[i];
      const size_t n = l.value->size();
      p += "/" + (l.value->is_object() ? l.key : std::to_string(i + 1 == levels_.size() ? n : n - 1));
    }
    if (p.size() > 60) p = p.substr(0, 28) + "..." + p.substr(p.size() - 28);  // deep documents
    return p.empty() ? "the top level" : "'" + p + "'";
  }

  // Stores v where the next value goes; returns where it is.
  json* place(json&& v) {
    if (levels_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    auto& level = levels_.back();
    if (level.value->is_array()) {
      level.value->push_back(std::move(v));
      return &level.value->back();
    }
    auto& slot = (*level.value)[level.key];
    slot = std::move(v);
    return &slot;
  }
  bool put(json&& v) {
    place(std::move(v));
    return true;
  }
  bool open(json&& container) {
    if (static_cast<int>(levels_.size()) >= kMaxJsonDepth)
      throw ParseError(detail::concat(source_, ": objects and arrays are nested deeper than ", kMaxJsonDepth,
                                      " levels at ", path(), "; hwnas reads at most ", kMaxJsonDepth, " levels"));
    levels_.push_back(Level{place(std::move(container)), {}, {}});
    return true;
  }
  bool close() {
    levels_.pop_back();
    return true;
  }

  json& root_;
  std::string_view text_;
  const std::string& source_;
  std::vector<Level> levels_;
};

}  // namespace

json parse_json(std::string_view text, const std::string& source) {
  json root;
  Builder builder(root, text, source);
  json::sax_parse(text.begin(), text.end(), &builder, json::input_format_t::json, /*strict=*/true);
  return root;
}

json read_json_file(const std::string& path, const std::string& what) {
  const std::string text = read_file(path, what);
  HWNAS_CHECK_T(DataError, text.find_first_not_of(" \t\r\n") != std::string::npos, "The ", what, " '", path,
                "' is empty; give a JSON file (was it written completely?)");
  return parse_json(text, detail::concat("The ", what, " '", path, "'"));
}

namespace {
void take(json& doc, const std::string& at, json& out) {
  if (doc.is_object()) {
    if (doc.contains("seconds")) {
      out[at + "/seconds"] = doc["seconds"];
      doc.erase("seconds");
    }
    for (auto& [k, v] : doc.items()) take(v, at + "/" + k, out);
  } else if (doc.is_array()) {
    for (size_t i = 0; i < doc.size(); ++i) take(doc[i], at + "/" + std::to_string(i), out);
  }
}
}  // namespace

json take_timings(json& doc) {
  json by_pointer = json::object();
  take(doc, "", by_pointer);
  return {{"seconds", by_pointer}};
}

void put_timings(json& doc, const json& timings) {
  if (!timings.is_object() || !timings.contains("seconds") || !timings["seconds"].is_object()) return;
  for (const auto& [pointer, value] : timings["seconds"].items()) {
    try {
      const json::json_pointer p(pointer);
      if (doc.contains(p.parent_pointer()) && doc[p.parent_pointer()].is_object()) doc[p] = value;
    } catch (const json::exception&) {
      // a pointer that does not fit this document: a time is lost, nothing else
    }
  }
}

void save_timings(const std::string& checkpoint, json& doc) {
  write_file_atomic(checkpoint + ".times.json", take_timings(doc).dump() + "\n");
}

void load_timings(const std::string& checkpoint, json& doc) {
  std::error_code ec;
  if (!std::filesystem::exists(checkpoint + ".times.json", ec)) return;
  try {
    put_timings(doc, read_json_file(checkpoint + ".times.json", "checkpoint times"));
  } catch (const Error&) {
    // damaged times lose the times, not the run
  }
}

std::string json_differences(const json& then, const json& now) {
  std::string out;
  for (const auto& op : json::diff(then, now)) {
    const auto path = op["path"].get<std::string>();
    const json::json_pointer pointer(path);
    const auto old_value = then.contains(pointer) ? then.at(pointer).dump() : "(none)";
    const auto new_value = op.contains("value") ? op["value"].dump() : "(none)";
    out += (out.empty() ? " " : "; ") + path + " was " + old_value + ", now " + new_value;
  }
  return out;
}

}  // namespace hwnas
