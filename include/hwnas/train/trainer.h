#pragma once
// Training and evaluation of a standalone network with SGD, deterministic given a seed.
#include <cstdint>
#include <functional>
#include <vector>

#include "hwnas/core/options.h"
#include "hwnas/data/dataset.h"
#include "hwnas/nn/network.h"

namespace hwnas::train {

/// Progress of one training step, passed to TrainOptions::on_step.
struct StepInfo {
  int64_t step = 0;   // 1-based
  int64_t total = 0;  // steps planned
  double loss = 0;    // this batch's cross-entropy
  double accuracy = 0;
};

/// Example:
///   auto result = train(*net, data, TrainOptions().steps(50).lr(0.05).seed(1));
struct TrainOptions {
  /// Number of SGD steps; 0 means `epochs` passes over the data.
  HWNAS_ARG(int64_t, steps) = 0;
  HWNAS_ARG(int64_t, epochs) = 1;
  HWNAS_ARG(int64_t, batch_size) = 64;
  HWNAS_ARG(double, lr) = 0.05;
  /// Cosine decay of the learning rate from `lr` to 0 over the run (after warm-up).
  HWNAS_ARG(bool, cosine) = false;
  /// Steps of linear warm-up from lr / warmup_steps to lr.
  HWNAS_ARG(int64_t, warmup_steps) = 0;
  HWNAS_ARG(double, momentum) = 0.9;
  HWNAS_ARG(bool, nesterov) = true;
  HWNAS_ARG(double, weight_decay) = 5e-4;
  /// Seeds the batch order.
  HWNAS_ARG(uint64_t, seed) = 0;
  /// Called after every step (e.g. for a progress bar).
  HWNAS_ARG(std::function<void(const StepInfo&)>, on_step);

 public:
  /// The recipe's JSON fields (an evaluator's "options"); the seed comes from the caller.
  template <typename Self, typename V>
  static void fields(Self& self, V& v) {  // hwnas/core/option_fields.h
    v.field("steps", self.steps_, 0, 100000000);
    v.field("epochs", self.epochs_, 0, 100000);
    v.field("batch_size", self.batch_size_, 1, 65536);
    v.field("lr", self.lr_, 1e-8, 100);
    v.field("cosine", self.cosine_);
    v.field("warmup_steps", self.warmup_steps_, 0, 100000000);
    v.field("momentum", self.momentum_, 0, 1);
    v.field("nesterov", self.nesterov_);
    v.field("weight_decay", self.weight_decay_, 0, 1);
  }
  /// Throws ConfigError naming a field out of its range (train() calls it).
  void validate() const;
};

struct TrainResult {
  std::vector<double> losses;  // one per step
  int64_t steps = 0;
  double seconds = 0;
};

struct EvalResult {
  double loss = 0;
  double accuracy = 0;
  int64_t samples = 0;
};

/// Trains `net` in place; throws Error naming the step if the loss becomes NaN or infinite.
TrainResult train(nn::Network& net, const data::Dataset& data, const TrainOptions& options);

/// Mean cross-entropy and accuracy in eval mode, without gradients.
EvalResult evaluate(nn::Network& net, const data::Dataset& data, int64_t batch_size = 256, int64_t workers = 0);

}  // namespace hwnas::train
