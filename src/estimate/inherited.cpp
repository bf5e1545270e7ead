#include "hwnas/estimate/inherited.h"

#include "hwnas/core/option_fields.h"

#include <torch/torch.h>

#include <algorithm>

#include "hwnas/core/error.h"
#include "hwnas/nn/batch_norm.h"
#include "hwnas/train/trainer.h"

namespace hwnas::estimate {

InheritedWeightsEvaluator::InheritedWeightsEvaluator(std::shared_ptr<nn::Supernet> supernet,
                                                     data::Dataset calibration, data::Dataset validation,
                                                     InheritedOptions options)
    : supernet_(std::move(supernet)), calibration_(std::move(calibration)),
      validation_(std::move(validation)), options_(options) {
  HWNAS_CHECK_T(ConfigError, supernet_ != nullptr, "InheritedWeightsEvaluator needs a supernet");
  options::check(options_, "inherited evaluator options");
  HWNAS_CHECK_T(ConfigError, validation_.size() > 0, "InheritedWeightsEvaluator needs validation data");
  HWNAS_CHECK_T(ConfigError, options_.bn_batches() == 0 || calibration_.size() > 0,
                "InheritedWeightsEvaluator: BatchNorm recalibration needs calibration data (or bn_batches 0)");
  const int64_t n = std::min<int64_t>(calibration_.size(), options_.bn_batches() * options_.batch_size());
  if (n > 0) bn_batches_ = data::batches(calibration_.slice(0, n), options_.batch_size());
}

std::vector<Metrics> InheritedWeightsEvaluator::do_evaluate(const std::vector<Arch>& archs) {
  std::vector<Metrics> out;
  for (const auto& arch : archs) {
    auto net = supernet_->extract(arch);
    if (!bn_batches_.empty()) {
      nn::recalibrate_batch_norm(*net, [&] {
        for (const auto& b : bn_batches_) net->forward(b.images);
      });
    }
    const auto r = train::evaluate(*net, validation_, options_.batch_size());
    out.push_back({{"val_accuracy", r.accuracy}, {"val_loss", r.loss}});
  }
  return out;
}

}  // namespace hwnas::estimate
