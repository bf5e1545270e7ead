#pragma once
// Graph convolutional predictor (LibTorch) over the cell DAG of the `graph` encoding, as
// in Wen et al. 2020 ("Neural Predictor for Neural Architecture Search") and NASLib's GCN
// predictor: node features are one-hot operations; each layer averages a forward and a
// backward propagation, (ReLU(F H W_f) + ReLU(B H W_b)) / 2 with F = norm(A + I) and
// B = norm(F^T), where norm divides each row by its sum; then dropout. The nodes' mean is the cell's
// embedding; the cells' embeddings (DARTS: normal, reduction) and the encoding's other
// features (e.g. "cost" in "graph+cost") go through a linear head (fc1, dropout, fc2, no
// biases). Adam with a cosine learning-rate schedule, on the mean squared error of
// standardised targets or a pairwise ranking loss (as MlpOptions::loss). The defaults are
// NASLib's (hidden 144, linear 128, batch 7, lr 1e-4, weight decay 3e-4, 300 epochs,
// dropout 0.1) with 3 graph layers, as in Wen et al.
//
// Its encoding kind is "graph" unless the config's "encoding" names another kind that
// holds "graph" (e.g. "graph+cost"); other kinds are refused at fit.
#include <string>
#include <vector>

#include "hwnas/core/option_fields.h"
#include "hwnas/core/options.h"
#include "hwnas/predictors/predictor.h"

namespace hwnas::predictors {

/// Example: make_predictor("gcn", {{"encoding", "graph+cost"}, {"epochs", 200}})
struct GcnOptions {
  /// Graph layers and their width.
  HWNAS_ARG(int64_t, layers) = 3;
  HWNAS_ARG(int64_t, hidden) = 144;
  /// Width of the head's hidden layer.
  HWNAS_ARG(int64_t, linear_hidden) = 128;
  HWNAS_ARG(int64_t, epochs) = 300;
  HWNAS_ARG(int64_t, batch_size) = 7;
  /// Adam's learning rate (the start of the cosine schedule) and L2 weight decay.
  HWNAS_ARG(double, lr) = 1e-4;
  HWNAS_ARG(double, weight_decay) = 3e-4;
  /// Dropout after every graph layer and in the head (training only).
  HWNAS_ARG(double, dropout) = 0.1;
  /// Seeds the initial weights, the batch order and the dropout masks.
  HWNAS_ARG(uint64_t, seed) = 0;
  /// "mse", "pairwise" or "mse+pairwise", as MlpOptions::loss.
  HWNAS_ARG(std::string, loss) = "mse";

 public:
  template <typename Self, typename V>
  static void fields(Self& self, V& v) {  // hwnas/core/option_fields.h
    v.field("layers", self.layers_, 1, 64);
    v.field("hidden", self.hidden_, 1, 1 << 14);
    v.field("linear_hidden", self.linear_hidden_, 1, 1 << 14);
    v.field("epochs", self.epochs_, 1, 1000000);
    v.field("batch_size", self.batch_size_, 1, 1 << 20);
    v.field("lr", self.lr_, 1e-8, 10);
    v.field("weight_decay", self.weight_decay_, 0, 10);
    v.field("dropout", self.dropout_, 0, 0.9);
    v.field("seed", self.seed_);
    v.field("loss", self.loss_, {"mse", "pairwise", "mse+pairwise"});
  }
  void validate() const { options::check(*this, "gcn predictor config"); }
  static GcnOptions from_json(const nlohmann::json& config) { return options::read<GcnOptions>(config, "gcn predictor config"); }
  nlohmann::json to_json() const { return options::write(*this); }
};

class GcnPredictor : public predictors::Predictor {
 public:
  explicit GcnPredictor(GcnOptions options = {});
  ~GcnPredictor() override;
  std::string name() const override { return "gcn"; }
  nlohmann::json config() const override { return options_.to_json(); }

 protected:
  void do_fit(const predictors::Features& x, const std::vector<double>& y) override;
  predictors::Prediction do_predict(const predictors::Features& x) const override;
  nlohmann::json state() const override;
  void load_state(const nlohmann::json& state) override;
  int64_t min_rows() const override { return 4; }

 private:
  struct Net;  // LibTorch tensors, kept out of this header
  GcnOptions options_;
  std::unique_ptr<Net> net_;
  double y_mean_ = 0, y_std_ = 1;
};

void register_gcn(predictors::PredictorRegistry& registry);

}  // namespace hwnas::predictors
