#include "hwnas/predictors/predictor.h"

#include "core/fnv1a.h"

#include <cmath>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "hwnas/core/json_number.h"
#include "hwnas/core/error.h"
#include "hwnas/core/json.h"
#include "hwnas/core/io.h"
#include "hwnas/core/search_space.h"
#include "hwnas/predictors/encoding.h"

namespace hwnas::predictors {

Features Features::select(const std::vector<int64_t>& indices) const {
  Features out(static_cast<int64_t>(indices.size()), cols);
  for (size_t i = 0; i < indices.size(); ++i) {
    HWNAS_INTERNAL_ASSERT(indices[i] >= 0 && indices[i] < rows, "row ", indices[i], " of ", rows);
    std::copy(row(indices[i]), row(indices[i]) + cols, out.row(static_cast<int64_t>(i)));
  }
  return out;
}

namespace {

// FNV-1a over the choices' names and options (and the kind): stable across runs and platforms.
std::string fingerprint_of(const SearchSpace& space, const std::string& kind) {
  uint64_t h = hwnas::detail::kFnvOffset;
  auto mix = [&h](const std::string& s) { h = (hwnas::detail::fnv1a(s, h) ^ 0xff) * hwnas::detail::kFnvPrime; };
  const auto format = space.encoding_format();
  if (!format.empty()) {
    mix(format);
  } else {
    for (const auto& c : space.choices()) {
      mix(c.name);
      for (const auto& o : c.options) mix(o);
    }
  }
  if (kind != "onehot") mix("encoding:" + kind);
  return fmt::format("{:016x}", h);
}

}  // namespace

EncodingInfo EncodingInfo::of(const SearchSpace& space, const std::string& kind) {
  EncodingInfo e;
  e.space = space.name();
  if (kind == "onehot") {
    e.size = space.encoding_size();  // no registry look-up per predict
  } else {
    const auto shape = encoding_shape(space, kind);
    e.size = shape.size;
    e.graph_offset = shape.graph_offset;
    e.graph = shape.graph;
  }
  e.fingerprint = fingerprint_of(space, kind);
  e.kind = kind;
  return e;
}

nlohmann::json EncodingInfo::to_json() const {
  nlohmann::json j = {{"space", space}, {"size", size}, {"fingerprint", fingerprint}};
  if (kind != "onehot") j["kind"] = kind;
  if (graph_offset >= 0)
    j["graph"] = {{"offset", graph_offset}, {"cells", graph.cells}, {"nodes", graph.nodes}, {"types", graph.types}};
  return j;
}

EncodingInfo EncodingInfo::from_json(const nlohmann::json& j) {
  HWNAS_CHECK_T(DataError, j.is_object() && j.contains("space") && j["space"].is_string() &&
                               j.contains("size") && j["size"].is_number_integer() &&
                               j.contains("fingerprint") && j["fingerprint"].is_string(),
                "'encoding' must be an object with \"space\" (string), \"size\" (integer) and "
                "\"fingerprint\" (string), but is ", j.dump());
  EncodingInfo e;
  e.space = j["space"].get<std::string>();
  e.size = json_integer<int64_t>(j["size"], "'encoding.size'");
  e.fingerprint = j["fingerprint"].get<std::string>();
  HWNAS_CHECK_T(DataError, e.size > 0, "'encoding.size' must be positive, but is ", e.size);
  if (j.contains("kind")) {
    HWNAS_CHECK_T(DataError, j["kind"].is_string(), "'encoding.kind' must be a string, but is ", j["kind"].dump());
    e.kind = j["kind"].get<std::string>();
    try {
      check_encoding_kind(e.kind);
    } catch (const ConfigError& err) {
      throw DataError(fmt::format("'encoding.kind': {}", err.what()));
    }
  }
  if (j.contains("graph")) {
    const auto& g = j["graph"];
    HWNAS_CHECK_T(DataError, g.is_object() && g.contains("offset") && g.contains("cells") && g.contains("nodes") &&
                                 g.contains("types"),
                  "'encoding.graph' must be {\"offset\", \"cells\", \"nodes\", \"types\"} (integers), but is ", g.dump());
    e.graph_offset = json_integer<int64_t>(g["offset"], "'encoding.graph.offset'");
    e.graph.cells = json_integer<int64_t>(g["cells"], "'encoding.graph.cells'");
    e.graph.nodes = json_integer<int64_t>(g["nodes"], "'encoding.graph.nodes'");
    e.graph.types = json_integer<int64_t>(g["types"], "'encoding.graph.types'");
    const int64_t limit = int64_t{1} << 20;
    HWNAS_CHECK_T(DataError, e.graph_offset >= 0 && e.graph.cells > 0 && e.graph.nodes > 0 && e.graph.types > 0 &&
                                 e.graph.cells <= limit && e.graph.nodes <= 1024 && e.graph.types <= limit &&
                                 e.graph_offset <= e.size && e.graph.size() <= e.size - e.graph_offset,
                  "'encoding.graph' ", g.dump(), " does not fit in the ", e.size,
                  " features; write the predictor again with `hwnas predictor fit`");
  }
  return e;
}

Features encode_archs(const SearchSpace& space, const std::vector<Arch>& archs, const std::string& kind) {
  if (kind == "onehot") {
    Features x(static_cast<int64_t>(archs.size()), space.encoding_size());
    for (size_t i = 0; i < archs.size(); ++i) {
      const auto v = space.encode(archs[i]);
      std::copy(v.begin(), v.end(), x.row(static_cast<int64_t>(i)));
    }
    return x;
  }
  const auto parts = encodings_for(space, kind);
  std::vector<int64_t> sizes;
  int64_t total = 0;
  for (const auto& e : parts) total += sizes.emplace_back(e->size(space));
  Features x(static_cast<int64_t>(archs.size()), total);
  for (size_t i = 0; i < archs.size(); ++i) {
    HWNAS_CHECK_T(InvalidArchError, archs[i].space() == space.name() && archs[i].genes().size() == space.choices().size(),
                  "Arch '", archs[i].str(), "' of space '", archs[i].space(), "' encoded for space '", space.name(), "'");
    float* out = x.row(static_cast<int64_t>(i));
    for (size_t k = 0; k < parts.size(); ++k) {
      parts[k]->encode(space, archs[i], out);
      out += sizes[k];
    }
  }
  return x;
}

void Predictor::set_encoding_kind(const std::string& kind) {
  check_encoding_kind(kind);
  kind_ = kind;
}

void Predictor::fit(const SearchSpace& space, const std::vector<Arch>& archs,
                    const std::vector<double>& targets) {
  HWNAS_CHECK_T(DataError, archs.size() == targets.size(), "Predictor '", name(), "': ",
                archs.size(), " archs but ", targets.size(), " targets");
  fit(encode_archs(space, archs, kind_), targets, EncodingInfo::of(space, kind_));
}

void Predictor::fit(const Features& x, const std::vector<double>& targets,
                    const EncodingInfo& encoding) {
  HWNAS_CHECK_T(DataError, x.rows == static_cast<int64_t>(targets.size()), "Predictor '", name(),
                "': ", x.rows, " rows of features but ", targets.size(), " targets");
  HWNAS_CHECK_T(DataError, x.cols == encoding.size, "Predictor '", name(), "': features have ",
                x.cols, " columns but the encoding of space '", encoding.space, "' has ",
                encoding.size);
  HWNAS_CHECK_T(DataError, x.rows >= min_rows(), "Predictor '", name(), "' needs at least ",
                min_rows(), " rows to fit, but got ", x.rows, "; measure more archs");
  for (size_t i = 0; i < targets.size(); ++i)
    HWNAS_CHECK_T(DataError, std::isfinite(targets[i]), "Predictor '", name(), "': target of row ",
                  i, " is ", targets[i], "; remove or re-measure that row");
  for (int64_t i = 0; i < x.rows; ++i)
    for (int64_t j = 0; j < x.cols; ++j)
      HWNAS_CHECK_T(DataError, std::isfinite(x.row(i)[j]), "Predictor '", name(), "': feature ", j,
                    " of row ", i, " is not finite");
  const auto previous = encoding_;
  encoding_ = encoding;
  try {
    do_fit(x, targets);
  } catch (...) {
    encoding_ = previous;
    throw;
  }
  kind_ = encoding.kind;
  fitted_ = true;
}

Prediction Predictor::predict(const SearchSpace& space, const std::vector<Arch>& archs) const {
  HWNAS_CHECK_T(ConfigError, fitted_, "Predictor '", name(), "' is not fitted; call fit() or load a saved one");
  // The name and fingerprint first, the size from the encoded features (one look-up of the
  // encodings per call); the whole EncodingInfo only for the message.
  auto mismatch = [&] {
    const auto enc = EncodingInfo::of(space, encoding_.kind);
    return ConfigError(detail::concat("Predictor '", name(), "' was fitted on space '", encoding_.space, "' (",
                                      encoding_.size, " features, choices ", encoding_.fingerprint,
                                      ") but the archs are of space '", enc.space, "' (", enc.size,
                                      " features, choices ", enc.fingerprint, "); fit a predictor on this space"));
  };
  if (space.name() != encoding_.space || fingerprint_of(space, encoding_.kind) != encoding_.fingerprint) throw mismatch();
  const auto x = encode_archs(space, archs, encoding_.kind);
  if (x.cols != encoding_.size) throw mismatch();
  return predict(x);
}

Prediction Predictor::predict(const Features& x) const {
  HWNAS_CHECK_T(ConfigError, fitted_, "Predictor '", name(), "' is not fitted; call fit() or load a saved one");
  HWNAS_CHECK_T(DataError, x.cols == encoding_.size, "Predictor '", name(), "' expects ",
                encoding_.size, " features per arch (space '", encoding_.space, "') but got ", x.cols);
  if (x.rows == 0) return {};
  auto p = do_predict(x);
  HWNAS_INTERNAL_ASSERT(static_cast<int64_t>(p.mean.size()) == x.rows &&
                            (p.std.empty() || static_cast<int64_t>(p.std.size()) == x.rows),
                        "predictor '", name(), "' returned ", p.mean.size(), " values for ", x.rows, " rows");
  return p;
}

void Predictor::mark_fitted(const EncodingInfo& encoding) {
  encoding_ = encoding;
  kind_ = encoding.kind;
  fitted_ = true;
}

nlohmann::json Predictor::to_json() const {
  HWNAS_CHECK_T(ConfigError, fitted_, "Predictor '", name(), "' is not fitted; nothing to save");
  return {{"format", "hwnas-predictor"},
          {"version", kFormatVersion},
          {"predictor", name()},
          {"config", config()},
          {"encoding", encoding_.to_json()},
          {"target", target_},
          {"state", state()}};
}

void Predictor::save(const std::string& path) const { write_file_atomic(path, to_json().dump() + "\n"); }

std::unique_ptr<Predictor> predictor_from_json(const nlohmann::json& j, const std::string& where) {
  // Compared as JSON values: value("format", "") would throw on a "format" of another type.
  HWNAS_CHECK_T(DataError, j.is_object() && j.contains("format") && j["format"] == "hwnas-predictor",
                where, " is not an hwnas predictor (expected \"format\": \"hwnas-predictor\"); "
                "write one with `hwnas predictor fit` or Predictor::save");
  HWNAS_CHECK_T(DataError, j.contains("version") && j["version"].is_number_integer(), where,
                ": missing integer \"version\"");
  const int version = json_integer<int>(j["version"], where + ": \"version\"");
  HWNAS_CHECK_T(DataError, version >= 1 && version <= Predictor::kFormatVersion, where,
                ": predictor format version ", version, " but this hwnas reads versions 1..",
                Predictor::kFormatVersion, version > Predictor::kFormatVersion
                    ? "; it was saved by a newer hwnas: upgrade hwnas to load it" : "");
  for (const char* key : {"predictor", "config", "encoding", "state"})
    HWNAS_CHECK_T(DataError, j.contains(key), where, ": missing field \"", key, "\"");
  HWNAS_CHECK_T(DataError, j["predictor"].is_string(), where, ": \"predictor\" must be a string");
  const auto name = j["predictor"].get<std::string>();
  HWNAS_CHECK_T(DataError, predictor_registry().contains(name), where, ": unknown predictor '",
                name, "'; this hwnas has: ", fmt::format("{}", fmt::join(predictor_registry().names(), ", ")));
  std::unique_ptr<Predictor> p;
  try {
    p = make_predictor(name, j["config"]);
    p->encoding_ = EncodingInfo::from_json(j["encoding"]);
    p->kind_ = p->encoding_.kind;
    p->load_state(j["state"]);
  } catch (const Error& e) {
    throw DataError(fmt::format("{}: {}", where, e.what()));
  } catch (const nlohmann::json::exception& e) {
    throw DataError(fmt::format("{}: malformed predictor state: {}", where, e.what()));
  }
  HWNAS_CHECK_T(DataError, !j.contains("target") || j["target"].is_string(), where,
                ": \"target\" must be a string (the metric the predictor was fitted to), but is ", j["target"].dump());
  p->target_ = j.contains("target") ? j["target"].get<std::string>() : "";
  p->fitted_ = true;
  return p;
}

std::unique_ptr<Predictor> load_predictor(const std::string& path) {
  const auto j = read_json_file(path, "predictor file");
  return predictor_from_json(j, "Predictor file " + path);
}

std::unique_ptr<Predictor> make_predictor(const std::string& name) {
  return predictor_registry().create(name);
}

std::unique_ptr<Predictor> make_predictor(const std::string& name, const nlohmann::json& config) {
  if (!config.is_object() || !config.contains("encoding")) return predictor_registry().create(name, config);
  const auto& kind = config["encoding"];
  HWNAS_CHECK_T(ConfigError, kind.is_string(), "The \"encoding\" of predictor '", name,
                "' must be a string such as \"onehot\" or \"path+cost\", but is ", kind.dump());
  auto rest = config;
  rest.erase("encoding");
  auto p = predictor_registry().create(name, rest);
  p->set_encoding_kind(kind.get<std::string>());
  return p;
}

}  // namespace hwnas::predictors
