#pragma once
// Predictor: a model of "how good is this arch" (or any per-arch number, e.g. latency)
// learned from measured archs, on the space's encoding (SearchSpace::encode).
//
// Predictors are reusable artifacts: save() writes a versioned JSON file naming the
// predictor, its options, the encoding it was fitted on and its learned state;
// load_predictor() reads it back. A predictor fitted on one space refuses archs of
// another with an error naming both.
//
// Example:
//   auto p = hwnas::predictors::make_predictor("gp");
//   p->fit(space, train_archs, train_accuracies);
//   auto pred = p->predict(space, candidates);   // pred.mean[i], pred.std[i]
//   p->save("acc_gp.json");
//
// A new predictor implements the protected hooks and registers itself in
// predictor_registry(); see docs/estimation.md ("Predictors") and examples/custom_predictor.cpp.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "hwnas/core/arch.h"
#include "hwnas/core/registry.h"
#include "hwnas/predictors/encoding.h"

namespace hwnas {
class SearchSpace;
}

namespace hwnas::predictors {

/// Row-major float matrix: one encoded arch per row.
struct Features {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<float> data;

  Features() = default;
  Features(int64_t rows, int64_t cols) : rows(rows), cols(cols), data(rows * cols, 0.0f) {}
  float* row(int64_t i) { return data.data() + i * cols; }
  const float* row(int64_t i) const { return data.data() + i * cols; }
  /// The rows at these indices (a copy).
  Features select(const std::vector<int64_t>& indices) const;
};

/// The encoding a predictor works on: its kind (a name in encoding_registry(), or several
/// joined by '+', e.g. "path+cost"; see hwnas/predictors/encoding.h), the space's name,
/// its choices (as a fingerprint) and the number of features. Two spaces with the same
/// choices share an encoding. A kind with cell graphs (e.g. "graph+cost") also records
/// where the first graph starts in the features and its layout (graph_offset -1: none).
struct EncodingInfo {
  std::string space;
  int64_t size = 0;
  std::string fingerprint;
  std::string kind = "onehot";
  int64_t graph_offset = -1;
  GraphLayout graph;

  static EncodingInfo of(const SearchSpace& space, const std::string& kind = "onehot");
  nlohmann::json to_json() const;
  static EncodingInfo from_json(const nlohmann::json& j);
  friend bool operator==(const EncodingInfo& a, const EncodingInfo& b) {
    return a.space == b.space && a.size == b.size && a.fingerprint == b.fingerprint;
  }
  friend bool operator!=(const EncodingInfo& a, const EncodingInfo& b) { return !(a == b); }
};

/// The encoded archs (checked to belong to `space`), in encoding `kind`.
Features encode_archs(const SearchSpace& space, const std::vector<Arch>& archs, const std::string& kind = "onehot");

/// Predictions for a batch of archs; `std` is empty when the predictor has no uncertainty.
struct Prediction {
  std::vector<double> mean;
  std::vector<double> std;
  bool has_std() const { return !std.empty(); }
};

class Predictor {
 public:
  /// Version of the file format save() writes; load refuses newer versions.
  static constexpr int kFormatVersion = 1;

  virtual ~Predictor() = default;
  /// Registry name, e.g. "gp".
  virtual std::string name() const = 0;
  /// The options this predictor was made with (what the registry factory reads back).
  virtual nlohmann::json config() const = 0;
  /// True if predict() fills Prediction::std.
  virtual bool has_uncertainty() const { return false; }

  /// The encoding kind fit(space, ...) uses (default "onehot"; a predictor config's
  /// "encoding" sets it, see make_predictor). Throws ConfigError for an unknown kind.
  void set_encoding_kind(const std::string& kind);
  const std::string& encoding_kind() const noexcept { return kind_; }

  /// Fits on archs of `space` and their targets, encoded in encoding_kind(). Throws
  /// DataError for NaN/inf targets (naming the row), fewer rows than the predictor needs,
  /// mismatched lengths, or an encoding that does not fit the space.
  void fit(const SearchSpace& space, const std::vector<Arch>& archs,
           const std::vector<double>& targets);
  /// The same on already encoded archs.
  void fit(const Features& x, const std::vector<double>& targets, const EncodingInfo& encoding);
  /// Batched prediction; throws ConfigError if not fitted or if `space` is not the
  /// space (encoding) the predictor was fitted on.
  Prediction predict(const SearchSpace& space, const std::vector<Arch>& archs) const;
  /// The same on encoded archs (rows of encoding().size features).
  Prediction predict(const Features& x) const;

  bool fitted() const noexcept { return fitted_; }
  const EncodingInfo& encoding() const noexcept { return encoding_; }
  /// What the targets are (free text saved with the predictor, e.g. "val_accuracy").
  const std::string& target() const noexcept { return target_; }
  void set_target(std::string target) { target_ = std::move(target); }

  /// The whole predictor as the versioned JSON document save() writes.
  nlohmann::json to_json() const;
  /// Writes to_json() atomically.
  void save(const std::string& path) const;

 protected:
  /// Learns from `x` (rows >= min_rows(), finite targets); encoding() is already the
  /// encoding of `x` (and is restored if do_fit throws).
  virtual void do_fit(const Features& x, const std::vector<double>& y) = 0;
  virtual Prediction do_predict(const Features& x) const = 0;
  /// The learned state as JSON, and its inverse (throw DataError naming the field).
  virtual nlohmann::json state() const = 0;
  virtual void load_state(const nlohmann::json& state) = 0;
  /// Fewest rows do_fit accepts.
  virtual int64_t min_rows() const { return 2; }
  /// For predictors made from a saved state (e.g. imported weights).
  void mark_fitted(const EncodingInfo& encoding);

 private:
  friend std::unique_ptr<Predictor> predictor_from_json(const nlohmann::json& j,
                                                        const std::string& where);
  EncodingInfo encoding_;
  std::string kind_ = "onehot";
  std::string target_;
  bool fitted_ = false;
};

using PredictorRegistry = Registry<Predictor>;

/// The predictor registry, with the built-ins (mlp, gp, ridge, xgboost, ensemble, gcn, residual)
/// registered on first use.
PredictorRegistry& predictor_registry();
/// Shorthand for predictor_registry().create(name, config), where config may also hold
/// "encoding" (the encoding kind, for every predictor: it is taken out of the config and
/// set with set_encoding_kind).
std::unique_ptr<Predictor> make_predictor(const std::string& name);
std::unique_ptr<Predictor> make_predictor(const std::string& name, const nlohmann::json& config);

/// Reads a document written by Predictor::to_json; `where` names its source in errors.
std::unique_ptr<Predictor> predictor_from_json(const nlohmann::json& j, const std::string& where);
/// Reads a file written by Predictor::save. Throws DataError naming the file and the
/// problem (not a predictor file, newer format version, unknown predictor, bad state).
std::unique_ptr<Predictor> load_predictor(const std::string& path);

}  // namespace hwnas::predictors
