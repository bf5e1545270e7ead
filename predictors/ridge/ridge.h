#pragma once
// Ridge regression (Eigen): y = w.x + b minimising |y - Xw - b|^2 + alpha |w|^2, solved in
// closed form on centred features. The fastest predictor to fit and query; a linear
// baseline for the others.
#include <vector>

#include "hwnas/core/options.h"
#include "hwnas/predictors/predictor.h"

namespace hwnas::predictors {

/// Example: make_predictor("ridge", {{"alpha", 0.1}})
struct RidgeOptions {
  /// L2 penalty on the weights (not on the intercept).
  HWNAS_ARG(double, alpha) = 1.0;

 public:
  static RidgeOptions from_json(const nlohmann::json& config);
  nlohmann::json to_json() const;
};

class RidgePredictor : public predictors::Predictor {
 public:
  explicit RidgePredictor(RidgeOptions options = {}) : options_(options) {}
  std::string name() const override { return "ridge"; }
  nlohmann::json config() const override { return options_.to_json(); }
  const std::vector<double>& weights() const { return weights_; }
  double intercept() const { return intercept_; }

 protected:
  void do_fit(const predictors::Features& x, const std::vector<double>& y) override;
  predictors::Prediction do_predict(const predictors::Features& x) const override;
  nlohmann::json state() const override;
  void load_state(const nlohmann::json& state) override;

 private:
  RidgeOptions options_;
  std::vector<double> weights_;
  double intercept_ = 0;
};

void register_ridge(predictors::PredictorRegistry& registry);

}  // namespace hwnas::predictors
