#pragma once
// The one JSON reader of hwnas: every JSON input (configs, tables, predictor files, arch
// lists, checkpoints' metadata, command-line JSON) is parsed here, so every one refuses the
// same things with the same kind of message:
//   - nesting deeper than kMaxJsonDepth (a deep document would exhaust the stack later,
//     when it is printed, compared or copied),
//   - a key repeated in one object (which of the two values was meant?),
//   - a number outside double range (1e400),
//   - a directory or an unreadable file where a file is expected,
// each as a ParseError (DataError for unreadable files) naming the source, the position
// or key path, and the fix.
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace hwnas {

/// Deepest nesting of objects and arrays any JSON input may have.
inline constexpr int kMaxJsonDepth = 256;

/// Parses `text`; `source` names where it came from in messages (a path, or e.g.
/// "--space-config"). Throws ParseError naming the source and what is wrong.
nlohmann::json parse_json(std::string_view text, const std::string& source);

/// Reads and parses the JSON file `path`; `what` says what the file is for messages
/// ("experiment config"). A missing file, a directory or an empty file is named as such.
nlohmann::json read_json_file(const std::string& path, const std::string& what);

/// Measured times kept beside a checkpoint instead of inside it, so that a checkpoint's
/// bytes depend on the inputs and the seed alone: take_timings() moves every member named
/// "seconds" out of `doc` into {"seconds": {json-pointer: value}}; put_timings() puts them
/// back where the pointers still exist. save_timings()/load_timings() write and read that
/// sidecar next to a checkpoint (`checkpoint` + ".times.json"; a missing one gives no
/// times).
nlohmann::json take_timings(nlohmann::json& doc);
void put_timings(nlohmann::json& doc, const nlohmann::json& timings);
void save_timings(const std::string& checkpoint, nlohmann::json& doc);
void load_timings(const std::string& checkpoint, nlohmann::json& doc);

/// The fields in which two documents differ, as " /path was X, now Y; /other ..." on one
/// line (for messages that refuse to resume with other settings).
std::string json_differences(const nlohmann::json& then, const nlohmann::json& now);

}  // namespace hwnas
