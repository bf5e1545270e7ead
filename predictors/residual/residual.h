#pragma once
// A prior plus a correction: a least-squares line on the log10 of the parameters and of the
// MACs (the "cost" features, which must end the encoding, e.g. "path+cost"), and any
// registered predictor fitted to what the line leaves, its correction scaled by how well it
// predicted held-out residuals (cross-validation). On few or noisy measurements, where the
// parameter count alone often ranks archs better than a model fitted on them, the line keeps
// that ranking and the inner predictor only adds what it can show it learned.
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "hwnas/core/options.h"
#include "hwnas/predictors/predictor.h"

namespace hwnas::predictors {

/// Example: make_predictor("residual", {{"predictor", "xgboost"}, {"encoding", "path+cost"}})
struct ResidualOptions {
  HWNAS_ARG(std::string, predictor) = "xgboost";
  HWNAS_ARG(nlohmann::json, config) = nlohmann::json::object();
  /// Ridge penalty of the line, on standardised features (keeps it defined when params and
  /// MACs are collinear).
  HWNAS_ARG(double, alpha) = 1e-3;
  /// The inner predictor's correction is scaled by the factor in [0, 1] that best fits the
  /// residuals of held-out rows in this many folds (its least-squares scale: near 0 where
  /// the correction is noise); 0 keeps the correction whole.
  HWNAS_ARG(int64_t, folds) = 5;
  /// Seeds the folds.
  HWNAS_ARG(uint64_t, seed) = 0;

 public:
  static ResidualOptions from_json(const nlohmann::json& config);
  nlohmann::json to_json() const;
  void validate() const;
};

class ResidualPredictor : public predictors::Predictor {
 public:
  explicit ResidualPredictor(ResidualOptions options = {});
  ~ResidualPredictor() override;
  std::string name() const override { return "residual"; }
  nlohmann::json config() const override { return options_.to_json(); }
  bool has_uncertainty() const override { return inner_->has_uncertainty(); }

 protected:
  void do_fit(const predictors::Features& x, const std::vector<double>& y) override;
  predictors::Prediction do_predict(const predictors::Features& x) const override;
  nlohmann::json state() const override;
  void load_state(const nlohmann::json& state) override;
  int64_t min_rows() const override { return 4; }

 private:
  double line(const float* row, int64_t cols) const;
  ResidualOptions options_;
  std::unique_ptr<predictors::Predictor> inner_;
  double coef_[3] = {0, 0, 0};  // intercept, log-params, log-MACs (the features as encoded)
  double scale_ = 1;            // of the inner predictor's correction
};

void register_residual(predictors::PredictorRegistry& registry);

}  // namespace hwnas::predictors
