#pragma once
// InheritedWeightsEvaluator: scores archs with a trained supernet's shared weights. Each
// arch is extracted as a standalone model, its BatchNorm statistics re-estimated on K
// training batches (the weights were trained on a mixture of paths, so the shared
// statistics are wrong for any one of them), then validated.
#include <memory>

#include "hwnas/data/dataset.h"
#include "hwnas/estimate/evaluator.h"
#include "hwnas/nn/supernet.h"

namespace hwnas::estimate {

struct InheritedOptions {
  /// Batches of the calibration data for BatchNorm re-estimation (0: keep the supernet's).
  HWNAS_ARG(int64_t, bn_batches) = 10;
  HWNAS_ARG(int64_t, batch_size) = 128;

 public:
  template <typename Self, typename V>
  static void fields(Self& self, V& v) {  // hwnas/core/option_fields.h
    v.field("bn_batches", self.bn_batches_, 0, 100000);
    v.field("batch_size", self.batch_size_, 1, 65536);
  }
};

/// Metrics: val_accuracy (0..1), val_loss.
class InheritedWeightsEvaluator : public Evaluator {
 public:
  InheritedWeightsEvaluator(std::shared_ptr<nn::Supernet> supernet, data::Dataset calibration,
                            data::Dataset validation, InheritedOptions options = {});
  std::string name() const override { return "inherited"; }
  std::vector<std::string> metrics() const override { return {"val_accuracy", "val_loss"}; }

 protected:
  std::vector<Metrics> do_evaluate(const std::vector<Arch>& archs) override;

 private:
  std::shared_ptr<nn::Supernet> supernet_;
  data::Dataset calibration_, validation_;
  InheritedOptions options_;
  std::vector<data::Batch> bn_batches_;
};

}  // namespace hwnas::estimate
