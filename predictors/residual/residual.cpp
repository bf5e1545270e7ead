#include "hwnas/predictors/residual/residual.h"

#include <Eigen/Dense>

#include <algorithm>

#include <fmt/format.h>

#include "predictors/util.h"
#include "hwnas/core/config.h"
#include "hwnas/core/error.h"
#include "hwnas/core/random.h"

namespace hwnas::predictors {

ResidualOptions ResidualOptions::from_json(const nlohmann::json& config) {
  ResidualOptions o;
  ConfigReader r(config, "residual predictor config");
  o.predictor(r.get_string("predictor", o.predictor()));
  o.config(r.get_json("config", o.config()));
  o.alpha(r.get_double("alpha", o.alpha(), 0, 1e6));
  o.folds(r.get_int("folds", o.folds(), 0, 100));
  o.seed(static_cast<uint64_t>(r.get_int("seed", 0, 0, INT32_MAX)));
  r.finish();
  o.validate();
  return o;
}

void ResidualOptions::validate() const {
  HWNAS_CHECK_T(ConfigError, predictor() != "residual", "residual predictor config: \"predictor\" cannot be "
                "'residual'; name the predictor of the residuals, e.g. \"xgboost\"");
  HWNAS_CHECK_T(ConfigError, alpha() >= 0 && alpha() <= 1e6, "residual predictor config: \"alpha\" must be in [0, 1e6], but is ", alpha());
  HWNAS_CHECK_T(ConfigError, folds() == 0 || (folds() >= 2 && folds() <= 100),
                "residual predictor config: \"folds\" must be 0 (no scaling) or 2 to 100, but is ", folds());
}

nlohmann::json ResidualOptions::to_json() const {
  return {{"predictor", predictor()}, {"config", config()}, {"alpha", alpha()}, {"folds", folds()}, {"seed", seed()}};
}

ResidualPredictor::ResidualPredictor(ResidualOptions options)
    : options_(std::move(options)) {
  options_.validate();
  inner_ = make_predictor(options_.predictor(), options_.config());
  set_encoding_kind("onehot+cost");
}
ResidualPredictor::~ResidualPredictor() = default;

namespace {

void check_cost_last(const EncodingInfo& e) {
  const auto& k = e.kind;
  const bool last = k == "cost" || (k.size() > 5 && k.compare(k.size() - 5, 5, "+cost") == 0);
  HWNAS_CHECK_T(ConfigError, last && e.size >= 2, "residual predictor: its encoding must end with the cost features, "
                "but is '", k, "'; use e.g. \"", k == "cost" ? "onehot" : k, "+cost\"");
}

}  // namespace

double ResidualPredictor::line(const float* row, int64_t cols) const {
  return coef_[0] + coef_[1] * row[cols - 2] + coef_[2] * row[cols - 1];
}

void ResidualPredictor::do_fit(const predictors::Features& x, const std::vector<double>& y) {
  check_cost_last(encoding());
  // Ridge on the standardised cost features, then back to the features as encoded.
  const int64_t n = x.rows, c = x.cols;
  double mean[2] = {0, 0}, sd[2] = {0, 0};
  for (int64_t i = 0; i < n; ++i)
    for (int k = 0; k < 2; ++k) mean[k] += x.row(i)[c - 2 + k] / static_cast<double>(n);
  for (int64_t i = 0; i < n; ++i)
    for (int k = 0; k < 2; ++k) sd[k] += std::pow(x.row(i)[c - 2 + k] - mean[k], 2) / static_cast<double>(n);
  Eigen::Matrix2d a = Eigen::Matrix2d::Identity() * options_.alpha() * static_cast<double>(n);
  Eigen::Vector2d b = Eigen::Vector2d::Zero();
  const double y_mean = mean_std(y).first;
  for (int k = 0; k < 2; ++k) sd[k] = std::max(std::sqrt(sd[k]), 1e-12);
  for (int64_t i = 0; i < n; ++i) {
    Eigen::Vector2d z((x.row(i)[c - 2] - mean[0]) / sd[0], (x.row(i)[c - 1] - mean[1]) / sd[1]);
    a += z * z.transpose();
    b += z * (y[static_cast<size_t>(i)] - y_mean);
  }
  const Eigen::Vector2d w = a.ldlt().solve(b);
  coef_[1] = w[0] / sd[0];
  coef_[2] = w[1] / sd[1];
  coef_[0] = y_mean - coef_[1] * mean[0] - coef_[2] * mean[1];
  std::vector<double> rest(y.size());
  for (int64_t i = 0; i < n; ++i) rest[static_cast<size_t>(i)] = y[static_cast<size_t>(i)] - line(x.row(i), c);
  // The scale: sum(r * r_hat) / sum(r_hat^2) over held-out rows, clamped to [0, 1].
  scale_ = 1;
  const int64_t folds = std::min(options_.folds(), n / 2);
  if (folds >= 2) {
    std::vector<int64_t> order(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
    Rng rng(options_.seed());
    rng.shuffle(order);
    double rr = 0, hh = 0;
    for (int64_t f = 0; f < folds; ++f) {
      std::vector<int64_t> in, out;
      for (int64_t k = 0; k < n; ++k) (k % folds == f ? out : in).push_back(order[static_cast<size_t>(k)]);
      std::vector<double> r_in;
      for (auto i : in) r_in.push_back(rest[static_cast<size_t>(i)]);
      auto probe = make_predictor(options_.predictor(), options_.config());
      probe->fit(x.select(in), r_in, encoding());
      const auto guess = probe->predict(x.select(out)).mean;
      for (size_t k = 0; k < out.size(); ++k) {
        rr += rest[static_cast<size_t>(out[k])] * guess[k];
        hh += guess[k] * guess[k];
      }
    }
    scale_ = hh > 0 ? std::clamp(rr / hh, 0.0, 1.0) : 0.0;
  }
  inner_->fit(x, rest, encoding());
}

predictors::Prediction ResidualPredictor::do_predict(const predictors::Features& x) const {
  auto p = inner_->predict(x);
  for (int64_t i = 0; i < x.rows; ++i) {
    auto& m = p.mean[static_cast<size_t>(i)];
    m = line(x.row(i), x.cols) + scale_ * m;
  }
  for (auto& s : p.std) s *= scale_;
  return p;
}

nlohmann::json ResidualPredictor::state() const {
  auto inner = inner_->to_json();
  inner["encoding"] = encoding().to_json();
  return {{"line", {coef_[0], coef_[1], coef_[2]}}, {"scale", scale_}, {"inner", inner}};
}

void ResidualPredictor::load_state(const nlohmann::json& s) {
  try {
    check_cost_last(encoding());
  } catch (const ConfigError& e) {
    throw DataError(e.what());
  }
  const auto line = read_vector(s, "line", 3);
  HWNAS_CHECK_T(DataError, s.contains("inner"), "predictor state: missing \"inner\" (the predictor of the residuals)");
  auto inner = predictor_from_json(s["inner"], "the residual predictor's inner predictor");
  HWNAS_CHECK_T(DataError, inner->name() == options_.predictor(), "predictor state: the inner predictor is a '",
                inner->name(), "' but the config says '", options_.predictor(), "'");
  inner_ = std::move(inner);
  for (int k = 0; k < 3; ++k) coef_[k] = line[static_cast<size_t>(k)];
  scale_ = read_number(s, "scale");
  HWNAS_CHECK_T(DataError, scale_ >= 0 && scale_ <= 1, "predictor state: \"scale\" must be in [0, 1], but is ", scale_);
}

void register_residual(predictors::PredictorRegistry& registry) {
  registry.add("residual", "A line on log params and MACs plus any predictor fitted to what it leaves",
               [](const nlohmann::json& c) { return std::make_unique<ResidualPredictor>(ResidualOptions::from_json(c)); });
}

}  // namespace hwnas::predictors
