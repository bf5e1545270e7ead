#include "hwnas/predictors/gp/gp.h"

#include <algorithm>
#include <cmath>

#include <Eigen/Dense>
#include <nlohmann/json.hpp>

#include "predictors/util.h"
#include "hwnas/core/config.h"
#include "hwnas/core/json_number.h"
#include "hwnas/core/error.h"

namespace hwnas::predictors {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

// Squared distances scaled by the length-scales: D_ij = sum_d (a_id - b_jd)^2 / l_d^2.
MatrixXd scaled_sq_dist(const MatrixXd& a, const MatrixXd& b, const VectorXd& inv_l2) {
  const MatrixXd as = a.array().rowwise() * inv_l2.transpose().array().sqrt();
  const MatrixXd bs = b.array().rowwise() * inv_l2.transpose().array().sqrt();
  MatrixXd d = (-2.0 * as * bs.transpose()).colwise() + as.rowwise().squaredNorm();
  d.rowwise() += bs.rowwise().squaredNorm().transpose();
  return d.cwiseMax(0.0);
}

struct Fit {
  double lml;
  VectorXd grad;  // d lml / d [log l (1 or D), log s, log sigma_n]
};

// Log marginal likelihood and its gradient (R&W eq. 5.9: 1/2 tr((aa^T - K^-1) dK/dtheta)).
Fit lml_and_grad(const MatrixXd& X, const VectorXd& y, const VectorXd& log_l, double log_s,
                 double log_n, bool ard) {
  const int64_t n = X.rows(), d = X.cols();
  VectorXd inv_l2(d);
  for (int64_t j = 0; j < d; ++j) inv_l2[j] = std::exp(-2.0 * log_l[ard ? j : 0]);
  const double s2 = std::exp(2 * log_s), n2 = std::exp(2 * log_n);
  const MatrixXd Kf = s2 * (-0.5 * scaled_sq_dist(X, X, inv_l2)).array().exp().matrix();
  MatrixXd K = Kf;
  K.diagonal().array() += n2;
  Eigen::LLT<MatrixXd> llt(K);
  HWNAS_CHECK_T(DataError, llt.info() == Eigen::Success,
                "Gaussian process: the kernel matrix is not positive definite (duplicate archs "
                "with very different targets?); raise \"min_noise\"");
  const VectorXd a = llt.solve(y);
  const MatrixXd L = llt.matrixL();
  double logdet = 0;
  for (int64_t i = 0; i < n; ++i) logdet += 2 * std::log(L(i, i));
  Fit f;
  f.lml = -0.5 * y.dot(a) - 0.5 * logdet - 0.5 * static_cast<double>(n) * std::log(2 * M_PI);
  const MatrixXd W = a * a.transpose() - llt.solve(MatrixXd::Identity(n, n));
  const MatrixXd M = W.cwiseProduct(Kf);
  f.grad.resize((ard ? d : 1) + 2);
  // sum_ij M_ij (x_id - x_jd)^2 = 2 sum_i x_id^2 r_i - 2 x_d^T M x_d, with r = M 1.
  const VectorXd r = M.rowwise().sum();
  const VectorXd sq = 2.0 * (X.array().square().matrix().transpose() * r) -
                      2.0 * (X.array() * (M * X).array()).colwise().sum().matrix().transpose();
  if (ard) {
    for (int64_t j = 0; j < d; ++j) f.grad[j] = 0.5 * sq[j] * inv_l2[j];
  } else {
    f.grad[0] = 0.5 * sq.sum() * inv_l2[0];
  }
  f.grad[f.grad.size() - 2] = 0.5 * 2.0 * M.sum();
  f.grad[f.grad.size() - 1] = 0.5 * 2.0 * n2 * W.trace();
  return f;
}

}  // namespace

void GpPredictor::do_fit(const predictors::Features& x, const std::vector<double>& y) {
  n_ = x.rows;
  d_ = x.cols;
  const MatrixXd X = to_matrix(x);
  std::tie(y_mean_, y_std_) = mean_std(y);
  VectorXd t(n_);
  for (int64_t i = 0; i < n_; ++i) t[i] = (y[static_cast<size_t>(i)] - y_mean_) / y_std_;

  // Initial length-scale: the median pairwise distance (the "median heuristic").
  std::vector<double> dists;
  const MatrixXd D = scaled_sq_dist(X, X, VectorXd::Ones(d_));
  for (int64_t i = 0; i < n_; ++i)
    for (int64_t j = i + 1; j < n_; ++j) dists.push_back(D(i, j));
  std::nth_element(dists.begin(), dists.begin() + static_cast<long>(dists.size() / 2), dists.end());
  const double med = std::max(dists[dists.size() / 2], 1e-6);

  const bool ard = options_.ard();
  const int64_t nl = ard ? d_ : 1;
  VectorXd theta(nl + 2);
  theta.head(nl).setConstant(0.5 * std::log(med));
  theta[nl] = 0.0;                      // log s: unit signal on standardised targets
  theta[nl + 1] = 0.5 * std::log(0.1);  // log sigma_n
  const double min_log_n = 0.5 * std::log(options_.min_noise());
  theta[nl + 1] = std::max(theta[nl + 1], min_log_n);

  // Adam ascent on the log marginal likelihood; keep the best point seen.
  VectorXd m = VectorXd::Zero(theta.size()), v = VectorXd::Zero(theta.size());
  VectorXd best = theta;
  double best_lml = -INFINITY;
  const double b1 = 0.9, b2 = 0.999;
  for (int64_t it = 0; it <= options_.iterations(); ++it) {
    const auto f = lml_and_grad(X, t, theta.head(nl), theta[nl], theta[nl + 1], ard);
    if (f.lml > best_lml) {
      best_lml = f.lml;
      best = theta;
    }
    if (it == options_.iterations()) break;
    m = b1 * m + (1 - b1) * f.grad;
    v = b2 * v + (1 - b2) * f.grad.cwiseProduct(f.grad);
    const double c1 = 1 - std::pow(b1, it + 1), c2 = 1 - std::pow(b2, it + 1);
    theta += options_.lr() * ((m / c1).array() / ((v / c2).array().sqrt() + 1e-8)).matrix();
    theta[nl + 1] = std::max(theta[nl + 1], min_log_n);
    theta.head(nl) = theta.head(nl).cwiseMax(-10.0).cwiseMin(10.0);
    theta[nl] = std::clamp(theta[nl], -10.0, 10.0);
  }
  length_scales_.resize(static_cast<size_t>(nl));
  for (int64_t j = 0; j < nl; ++j) length_scales_[static_cast<size_t>(j)] = std::exp(best[j]);
  signal_var_ = std::exp(2 * best[nl]);
  noise_var_ = std::exp(2 * best[nl + 1]);
  x_.resize(static_cast<size_t>(n_ * d_));
  for (int64_t i = 0; i < n_; ++i)
    for (int64_t j = 0; j < d_; ++j) x_[static_cast<size_t>(i * d_ + j)] = X(i, j);
  y_.assign(t.data(), t.data() + t.size());
  factorize();
}

void GpPredictor::factorize() {
  using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const MatrixXd X = Eigen::Map<const RowMat>(x_.data(), n_, d_);
  VectorXd inv_l2(d_);
  for (int64_t j = 0; j < d_; ++j)
    inv_l2[j] = 1.0 / std::pow(length_scales_[length_scales_.size() == 1 ? 0 : static_cast<size_t>(j)], 2);
  MatrixXd K = signal_var_ * (-0.5 * scaled_sq_dist(X, X, inv_l2)).array().exp().matrix();
  K.diagonal().array() += noise_var_;
  Eigen::LLT<MatrixXd> llt(K);
  HWNAS_CHECK_T(DataError, llt.info() == Eigen::Success,
                "Gaussian process: the kernel matrix is not positive definite; raise \"min_noise\"");
  const VectorXd t = Eigen::Map<const VectorXd>(y_.data(), n_);
  const VectorXd a = llt.solve(t);
  alpha_.assign(a.data(), a.data() + n_);
  const RowMat L = llt.matrixL();
  chol_.assign(L.data(), L.data() + n_ * n_);
  double logdet = 0;
  for (int64_t i = 0; i < n_; ++i) logdet += 2 * std::log(L(i, i));
  lml_ = -0.5 * t.dot(a) - 0.5 * logdet - 0.5 * static_cast<double>(n_) * std::log(2 * M_PI);
}

predictors::Prediction GpPredictor::do_predict(const predictors::Features& x) const {
  using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const MatrixXd X = Eigen::Map<const RowMat>(x_.data(), n_, d_);
  const MatrixXd Q = to_matrix(x);
  VectorXd inv_l2(d_);
  for (int64_t j = 0; j < d_; ++j)
    inv_l2[j] = 1.0 / std::pow(length_scales_[length_scales_.size() == 1 ? 0 : static_cast<size_t>(j)], 2);
  const MatrixXd Ks = signal_var_ * (-0.5 * scaled_sq_dist(Q, X, inv_l2)).array().exp().matrix();
  const VectorXd mean = Ks * Eigen::Map<const VectorXd>(alpha_.data(), n_);
  const MatrixXd L = Eigen::Map<const RowMat>(chol_.data(), n_, n_);
  const MatrixXd V = L.triangularView<Eigen::Lower>().solve(Ks.transpose());
  predictors::Prediction p;
  p.mean.resize(static_cast<size_t>(x.rows));
  p.std.resize(static_cast<size_t>(x.rows));
  for (int64_t i = 0; i < x.rows; ++i) {
    const double var = std::max(signal_var_ - V.col(i).squaredNorm(), 0.0) + noise_var_;
    p.mean[static_cast<size_t>(i)] = y_mean_ + y_std_ * mean[i];
    p.std[static_cast<size_t>(i)] = y_std_ * std::sqrt(var);
  }
  return p;
}

nlohmann::json GpPredictor::state() const {
  return {{"length_scales", length_scales_}, {"signal_var", signal_var_}, {"noise_var", noise_var_},
          {"y_mean", y_mean_}, {"y_std", y_std_}, {"x", x_}, {"y", y_}, {"rows", n_}};
}

void GpPredictor::load_state(const nlohmann::json& s) {
  d_ = encoding().size;
  HWNAS_CHECK_T(DataError, s.is_object() && s.contains("rows"), "predictor state: missing \"rows\"");
  n_ = json_integer<int64_t>(s.at("rows"), "predictor state: \"rows\"");
  HWNAS_CHECK_T(DataError, n_ >= 1, "predictor state: \"rows\" must be positive");
  y_ = read_vector(s, "y", n_);  // first: bounds rows by the file before rows x encoding size
  length_scales_ = read_vector(s, "length_scales", -1);
  HWNAS_CHECK_T(DataError, length_scales_.size() == 1 || static_cast<int64_t>(length_scales_.size()) == d_,
                "predictor state: \"length_scales\" has ", length_scales_.size(), " values, expected 1 or ", d_);
  for (double l : length_scales_) HWNAS_CHECK_T(DataError, l > 0, "predictor state: a length-scale is not positive");
  signal_var_ = read_number(s, "signal_var");
  noise_var_ = read_number(s, "noise_var");
  HWNAS_CHECK_T(DataError, signal_var_ > 0 && noise_var_ > 0, "predictor state: variances must be positive");
  y_mean_ = read_number(s, "y_mean");
  y_std_ = read_number(s, "y_std");
  x_ = read_vector(s, "x", n_ * d_);
  factorize();
}

void register_gp(predictors::PredictorRegistry& registry) {
  registry.add("gp", "Gaussian process, RBF/ARD kernel fitted by marginal likelihood (Eigen); with uncertainty",
               [](const nlohmann::json& c) { return std::make_unique<GpPredictor>(GpOptions::from_json(c)); });
}

}  // namespace hwnas::predictors
