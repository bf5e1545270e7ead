#pragma once
// Multi-layer perceptron regressor (LibTorch): encoding -> hidden layers with ReLU -> 1,
// trained with Adam on the mean squared error of standardised targets (or a pairwise
// ranking loss, or both: MlpOptions::loss), with early
// stopping on a validation split (the best epoch's weights are kept). This is also the
// form of Once-for-All's accuracy predictor, which import_ofa_accuracy_predictor reads.
#include <string>
#include <vector>

#include "hwnas/core/option_fields.h"
#include "hwnas/core/options.h"
#include "hwnas/predictors/predictor.h"

namespace hwnas::predictors {

/// Example: make_predictor("mlp", {{"hidden", {400, 400, 400}}, {"epochs", 200}})
struct MlpOptions {
  /// Widths of the hidden layers.
  HWNAS_ARG(std::vector<int64_t>, hidden) = std::vector<int64_t>{128, 128};
  HWNAS_ARG(int64_t, epochs) = 300;
  HWNAS_ARG(int64_t, batch_size) = 32;
  /// Adam learning rate and (decoupled from nothing: plain L2) weight decay.
  HWNAS_ARG(double, lr) = 1e-3;
  HWNAS_ARG(double, weight_decay) = 0.0;
  /// Share of the training rows held out for early stopping (0: none, train all epochs).
  HWNAS_ARG(double, validation_fraction) = 0.1;
  /// Epochs without validation improvement before stopping.
  HWNAS_ARG(int64_t, patience) = 30;
  /// Seeds the initial weights, the validation split and the batch order.
  HWNAS_ARG(uint64_t, seed) = 0;
  /// "mse" (regression), "pairwise" (ranking: the logistic loss of every ordered pair of a
  /// batch, log(1 + exp(-(s_i - s_j))) for y_i > y_j, as in RankNet), or "mse+pairwise"
  /// (their sum). Early stopping uses the same loss on the validation rows.
  HWNAS_ARG(std::string, loss) = "mse";

 public:
  template <typename Self, typename V>
  static void fields(Self& self, V& v) {  // hwnas/core/option_fields.h
    v.field("hidden", self.hidden_, 1, 1 << 16);
    v.field("epochs", self.epochs_, 1, 1000000);
    v.field("batch_size", self.batch_size_, 1, 1 << 20);
    v.field("lr", self.lr_, 1e-8, 10);
    v.field("weight_decay", self.weight_decay_, 0, 10);
    v.field("validation_fraction", self.validation_fraction_, 0, 0.9);
    v.field("patience", self.patience_, 1, 1000000);
    v.field("seed", self.seed_);
    v.field("loss", self.loss_, {"mse", "pairwise", "mse+pairwise"});
  }
  void validate() const { options::check(*this, "mlp predictor config"); }
  static MlpOptions from_json(const nlohmann::json& config) { return options::read<MlpOptions>(config, "mlp predictor config"); }
  nlohmann::json to_json() const { return options::write(*this); }
};

class MlpPredictor : public predictors::Predictor {
 public:
  explicit MlpPredictor(MlpOptions options = {});
  ~MlpPredictor() override;
  std::string name() const override { return "mlp"; }
  nlohmann::json config() const override { return options_.to_json(); }
  /// Epochs run by the last fit (fewer than `epochs` when it stopped early).
  int64_t epochs_run() const { return epochs_run_; }

  /// An MLP from a PyTorch nn.Sequential state dict of Linear layers with ReLU between
  /// them, as JSON {"0.weight": {"shape": [out, in], "data": [...]}, "0.bias": ..., "2.weight", ...}
  /// (row-major float values), predicting raw targets on `encoding`. `where` names the
  /// source in errors.
  static std::unique_ptr<MlpPredictor> from_state_dict(const nlohmann::json& state_dict,
                                                       const predictors::EncodingInfo& encoding,
                                                       const std::string& where);

 protected:
  void do_fit(const predictors::Features& x, const std::vector<double>& y) override;
  predictors::Prediction do_predict(const predictors::Features& x) const override;
  nlohmann::json state() const override;
  void load_state(const nlohmann::json& state) override;
  int64_t min_rows() const override { return 4; }

 private:
  struct Layers;  // LibTorch tensors, kept out of this header
  MlpOptions options_;
  std::unique_ptr<Layers> layers_;
  double y_mean_ = 0, y_std_ = 1;
  int64_t epochs_run_ = 0;
};

/// Once-for-All's accuracy predictor (the JSON conversion of its acc_predictor.pth, an MLP
/// 128-400-400-400-1, see data/ofa/README.md) on the encoding of `ofa_space`.
std::unique_ptr<MlpPredictor> import_ofa_accuracy_predictor(const std::string& path,
                                                            const SearchSpace& ofa_space);

void register_mlp(predictors::PredictorRegistry& registry);

}  // namespace hwnas::predictors
