#pragma once
// Ridge regression (Eigen): y = w.x + b minimising |y - Xw - b|^2 + alpha |w|^2, solved in
// closed form on centred features. The fastest predictor to fit and query; a linear
// baseline for the others.
#include <vector>

#include "hwnas/core/option_fields.h"
#include "hwnas/core/options.h"
#include "hwnas/predictors/predictor.h"

namespace hwnas::predictors {

/// Example: make_predictor("ridge", {{"alpha", 0.1}})
struct RidgeOptions {
  /// L2 penalty on the weights (not on the intercept).
  HWNAS_ARG(double, alpha) = 1.0;

 public:
  template <typename Self, typename V>
  static void fields(Self& self, V& v) {  // hwnas/core/option_fields.h
    v.field("alpha", self.alpha_, 0.0, 1e12);
  }
  void validate() const { options::check(*this, "ridge predictor config"); }
  static RidgeOptions from_json(const nlohmann::json& config) { return options::read<RidgeOptions>(config, "ridge predictor config"); }
  nlohmann::json to_json() const { return options::write(*this); }
};

class RidgePredictor : public predictors::Predictor {
 public:
  explicit RidgePredictor(RidgeOptions options = {}) : options_(options) { options_.validate(); }
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
