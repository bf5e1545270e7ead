#pragma once
// ShortTrainingEvaluator: trains each arch's standalone model from scratch for a fixed
// budget and reports validation accuracy and loss: the ground truth for small spaces.
// Deterministic: the weights of an arch are seeded from (seed, arch string), the batch
// order from the seed, so a result does not depend on which other archs are evaluated.
#include <memory>

#include "hwnas/core/search_space.h"
#include "hwnas/data/dataset.h"
#include "hwnas/estimate/evaluator.h"
#include "hwnas/train/trainer.h"

namespace hwnas::estimate {

/// Example: ShortTrainingOptions().train(TrainOptions().steps(200).lr(0.05)).bn_batches(10)
struct ShortTrainingOptions {
  /// The training recipe (steps or epochs, batch, lr, ...); its seed seeds the batch order.
  HWNAS_ARG(train::TrainOptions, train) = train::TrainOptions().steps(200);
  /// Training batches to re-estimate BatchNorm statistics on before validating (0: none).
  HWNAS_ARG(int64_t, bn_batches) = 10;
  /// Seeds the initial weights (with the arch string).
  HWNAS_ARG(uint64_t, seed) = 0;
  HWNAS_ARG(BuildOptions, build) = BuildOptions();

 public:
  /// JSON (the evaluator's "options"): the training recipe's fields, flat, and bn_batches.
  template <typename Self, typename V>
  static void fields(Self& self, V& v) {  // hwnas/core/option_fields.h
    train::TrainOptions::fields(self.train_, v);
    v.field("bn_batches", self.bn_batches_, 0, 100000);
  }
};

/// Metrics: val_accuracy (0..1), val_loss, train_loss (mean of the last 10% of steps),
/// train_seconds.
class ShortTrainingEvaluator : public Evaluator {
 public:
  ShortTrainingEvaluator(std::shared_ptr<const SearchSpace> space, data::Dataset train,
                         data::Dataset validation, ShortTrainingOptions options = {});
  std::string name() const override { return "short_training"; }
  std::vector<std::string> metrics() const override;
  /// Trains and evaluates one arch.
  Metrics evaluate_one(const Arch& arch);

 protected:
  std::vector<Metrics> do_evaluate(const std::vector<Arch>& archs) override;

 private:
  std::shared_ptr<const SearchSpace> space_;
  data::Dataset train_, validation_;
  ShortTrainingOptions options_;
};

/// A seed for `arch`'s initial weights: mixes `seed` with a hash of the arch string.
uint64_t arch_seed(uint64_t seed, const Arch& arch);

}  // namespace hwnas::estimate
