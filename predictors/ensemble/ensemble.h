#pragma once
// An ensemble of predictors: the mean of its members' predictions, with their spread as
// the uncertainty (plus the members' own predictive variance where they have one).
// Members are any registered predictors; `bootstrap` fits each on a resample of the rows.
#include <memory>
#include <vector>

#include "hwnas/core/options.h"
#include "hwnas/predictors/predictor.h"

namespace hwnas::predictors {

/// Either explicit members or `size` copies of one predictor (seeds seed, seed+1, ...
/// when the predictor has a "seed" option). Examples:
///   {"members": [{"predictor": "gp"}, {"predictor": "xgboost", "config": {"rounds": 100}}]}
///   {"predictor": "mlp", "size": 5, "bootstrap": true}
struct EnsembleOptions {
  /// Without members: this many copies of this predictor.
  static constexpr const char* kDefaultPredictor = "mlp";
  static constexpr int64_t kDefaultSize = 5;
  struct Member {
    std::string predictor;
    nlohmann::json config;
  };
  HWNAS_ARG(std::vector<Member>, members);
  HWNAS_ARG(bool, bootstrap) = false;
  HWNAS_ARG(uint64_t, seed) = 0;

 public:
  static EnsembleOptions from_json(const nlohmann::json& config);
  nlohmann::json to_json() const;
};

class EnsemblePredictor : public predictors::Predictor {
 public:
  explicit EnsemblePredictor(EnsembleOptions options);
  ~EnsemblePredictor() override;
  std::string name() const override { return "ensemble"; }
  nlohmann::json config() const override { return options_.to_json(); }
  bool has_uncertainty() const override { return true; }
  size_t size() const { return members_.size(); }

 protected:
  void do_fit(const predictors::Features& x, const std::vector<double>& y) override;
  predictors::Prediction do_predict(const predictors::Features& x) const override;
  nlohmann::json state() const override;
  void load_state(const nlohmann::json& state) override;
  int64_t min_rows() const override;

 private:
  EnsembleOptions options_;
  std::vector<std::unique_ptr<predictors::Predictor>> members_;
};

void register_ensemble(predictors::PredictorRegistry& registry);

}  // namespace hwnas::predictors
