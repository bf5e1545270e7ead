#include "hwnas/predictors/ridge/ridge.h"

#include <Eigen/Dense>
#include <nlohmann/json.hpp>

#include "hwnas/core/config.h"
#include "hwnas/core/error.h"
#include "predictors/util.h"

namespace hwnas::predictors {

void RidgePredictor::do_fit(const predictors::Features& x, const std::vector<double>& y) {
  const Eigen::MatrixXd X = to_matrix(x);
  const Eigen::VectorXd t = Eigen::Map<const Eigen::VectorXd>(y.data(), static_cast<Eigen::Index>(y.size()));
  const Eigen::RowVectorXd mean = X.colwise().mean();
  const Eigen::MatrixXd Xc = X.rowwise() - mean;
  const double tmean = t.mean();
  // A tiny ridge keeps alpha = 0 solvable when features are collinear (one-hot blocks).
  Eigen::MatrixXd A = Xc.transpose() * Xc;
  A.diagonal().array() += std::max(options_.alpha(), 1e-10);
  const Eigen::VectorXd w = A.ldlt().solve(Xc.transpose() * (t.array() - tmean).matrix());
  weights_.assign(w.data(), w.data() + w.size());
  intercept_ = tmean - mean.dot(w);
}

predictors::Prediction RidgePredictor::do_predict(const predictors::Features& x) const {
  predictors::Prediction p;
  p.mean.resize(static_cast<size_t>(x.rows));
  for (int64_t i = 0; i < x.rows; ++i) {
    double s = intercept_;
    const float* r = x.row(i);
    for (int64_t j = 0; j < x.cols; ++j) s += weights_[static_cast<size_t>(j)] * r[j];
    p.mean[static_cast<size_t>(i)] = s;
  }
  return p;
}

nlohmann::json RidgePredictor::state() const { return {{"weights", weights_}, {"intercept", intercept_}}; }

void RidgePredictor::load_state(const nlohmann::json& s) {
  weights_ = read_vector(s, "weights", encoding().size);
  intercept_ = read_number(s, "intercept");
}

void register_ridge(predictors::PredictorRegistry& registry) {
  registry.add("ridge", "Ridge regression on the encoding (Eigen, closed form)",
               [](const nlohmann::json& c) { return std::make_unique<RidgePredictor>(RidgeOptions::from_json(c)); });
}

}  // namespace hwnas::predictors
