#pragma once
// Gaussian-process regression (Eigen) with a squared-exponential kernel,
//   k(x, x') = s^2 exp(-1/2 sum_d (x_d - x'_d)^2 / l_d^2) + sigma_n^2 [x = x'],
// one length-scale per feature (ARD) or one shared, on standardised targets. The
// hyper-parameters (log l, log s, log sigma_n) maximise the log marginal likelihood
// (Rasmussen & Williams 2006, eq. 5.8-5.9) by Adam on its exact gradient. Predictions
// carry the predictive standard deviation.
#include <vector>

#include "hwnas/core/option_fields.h"
#include "hwnas/core/options.h"
#include "hwnas/predictors/predictor.h"

namespace hwnas::predictors {

/// Example: make_predictor("gp", {{"ard", false}})
struct GpOptions {
  /// One length-scale per feature (true) or one for all (false).
  HWNAS_ARG(bool, ard) = true;
  /// Adam steps on the log marginal likelihood (0: keep the initial hyper-parameters).
  HWNAS_ARG(int64_t, iterations) = 150;
  /// Adam step size in log-parameter space.
  HWNAS_ARG(double, lr) = 0.05;
  /// Lower bound of the noise variance (on standardised targets), for stability.
  HWNAS_ARG(double, min_noise) = 1e-4;

 public:
  template <typename Self, typename V>
  static void fields(Self& self, V& v) {  // hwnas/core/option_fields.h
    v.field("ard", self.ard_);
    v.field("iterations", self.iterations_, 0, 100000);
    v.field("lr", self.lr_, 1e-6, 10);
    v.field("min_noise", self.min_noise_, 1e-10, 10);
  }
  void validate() const { options::check(*this, "gp predictor config"); }
  static GpOptions from_json(const nlohmann::json& config) { return options::read<GpOptions>(config, "gp predictor config"); }
  nlohmann::json to_json() const { return options::write(*this); }
};

class GpPredictor : public predictors::Predictor {
 public:
  explicit GpPredictor(GpOptions options = {}) : options_(options) { options_.validate(); }
  std::string name() const override { return "gp"; }
  nlohmann::json config() const override { return options_.to_json(); }
  bool has_uncertainty() const override { return true; }
  /// Log marginal likelihood of the training targets (standardised) at the fitted
  /// hyper-parameters.
  double log_marginal_likelihood() const { return lml_; }
  const std::vector<double>& length_scales() const { return length_scales_; }

 protected:
  void do_fit(const predictors::Features& x, const std::vector<double>& y) override;
  predictors::Prediction do_predict(const predictors::Features& x) const override;
  nlohmann::json state() const override;
  void load_state(const nlohmann::json& state) override;
  int64_t min_rows() const override { return 3; }

 private:
  void factorize();  // alpha_, chol_ from x_, y_ and the hyper-parameters

  GpOptions options_;
  std::vector<double> length_scales_;  // one per feature (ARD) or one
  double signal_var_ = 1, noise_var_ = 0.1;
  double y_mean_ = 0, y_std_ = 1;
  std::vector<double> x_;  // training features, row-major
  std::vector<double> y_;  // standardised targets
  int64_t n_ = 0, d_ = 0;
  std::vector<double> alpha_;  // K^-1 y
  std::vector<double> chol_;   // lower Cholesky factor of K, row-major n x n
  double lml_ = 0;
};

void register_gp(predictors::PredictorRegistry& registry);

}  // namespace hwnas::predictors
