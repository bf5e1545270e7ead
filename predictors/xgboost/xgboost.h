#pragma once
// Gradient-boosted regression trees through XGBoost's C API (Debian's libxgboost-dev).
// The trained booster is saved inside the predictor file as XGBoost's own JSON model.
#include <memory>
#include <string>

#include "hwnas/core/option_fields.h"
#include "hwnas/core/options.h"
#include "hwnas/predictors/predictor.h"

namespace hwnas::predictors {

/// Example: make_predictor("xgboost", {{"rounds", 300}, {"max_depth", 4}})
/// Field names follow XGBoost's parameters (rounds = num_boost_round).
struct XgboostOptions {
  HWNAS_ARG(int64_t, rounds) = 200;
  HWNAS_ARG(int64_t, max_depth) = 6;
  /// Learning rate (XGBoost's eta).
  HWNAS_ARG(double, eta) = 0.1;
  HWNAS_ARG(double, subsample) = 1.0;
  HWNAS_ARG(double, colsample_bytree) = 1.0;
  HWNAS_ARG(double, min_child_weight) = 1.0;
  /// L2 regularisation of leaf weights (XGBoost's lambda).
  HWNAS_ARG(double, reg_lambda) = 1.0;
  HWNAS_ARG(int64_t, threads) = 1;
  HWNAS_ARG(uint64_t, seed) = 0;

 public:
  template <typename Self, typename V>
  static void fields(Self& self, V& v) {  // hwnas/core/option_fields.h
    v.field("rounds", self.rounds_, 1, 1000000);
    v.field("max_depth", self.max_depth_, 1, 64);
    v.field("eta", self.eta_, 1e-6, 1);
    v.field("subsample", self.subsample_, 1e-3, 1);
    v.field("colsample_bytree", self.colsample_bytree_, 1e-3, 1);
    v.field("min_child_weight", self.min_child_weight_, 0, 1e6);
    v.field("reg_lambda", self.reg_lambda_, 0, 1e6);
    v.field("threads", self.threads_, 1, 1024);
    v.field("seed", self.seed_, 0, INT32_MAX);
  }
  void validate() const { options::check(*this, "xgboost predictor config"); }
  static XgboostOptions from_json(const nlohmann::json& config) { return options::read<XgboostOptions>(config, "xgboost predictor config"); }
  nlohmann::json to_json() const { return options::write(*this); }
};

class XgboostPredictor : public predictors::Predictor {
 public:
  explicit XgboostPredictor(XgboostOptions options = {});
  ~XgboostPredictor() override;
  std::string name() const override { return "xgboost"; }
  nlohmann::json config() const override { return options_.to_json(); }

 protected:
  void do_fit(const predictors::Features& x, const std::vector<double>& y) override;
  predictors::Prediction do_predict(const predictors::Features& x) const override;
  nlohmann::json state() const override;
  void load_state(const nlohmann::json& state) override;

 private:
  void new_booster(void* dtrain);  // with the options' parameters
  XgboostOptions options_;
  void* booster_ = nullptr;  // BoosterHandle
};

void register_xgboost(predictors::PredictorRegistry& registry);

}  // namespace hwnas::predictors
