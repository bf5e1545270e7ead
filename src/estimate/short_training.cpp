#include "hwnas/estimate/short_training.h"

#include "hwnas/core/option_fields.h"

#include "core/fnv1a.h"

#include <torch/torch.h>

#include <algorithm>

#include "hwnas/core/error.h"
#include "hwnas/nn/batch_norm.h"

namespace hwnas::estimate {

uint64_t arch_seed(uint64_t seed, const Arch& arch) {
  const uint64_t h = hwnas::detail::fnv1a(arch.str(), hwnas::detail::kFnvOffset ^ (seed * 0x9E3779B97F4A7C15ull));
  return h >> 1;  // torch seeds are taken as uint64 but kept positive for printing
}

ShortTrainingEvaluator::ShortTrainingEvaluator(std::shared_ptr<const SearchSpace> space, data::Dataset train,
                                               data::Dataset validation, ShortTrainingOptions options)
    : space_(std::move(space)), train_(std::move(train)), validation_(std::move(validation)),
      options_(std::move(options)) {
  HWNAS_CHECK_T(ConfigError, space_ != nullptr, "ShortTrainingEvaluator needs a space");
  options::check(options_, "short_training evaluator options");
  HWNAS_CHECK_T(ConfigError, train_.size() > 0 && validation_.size() > 0,
                "ShortTrainingEvaluator needs non-empty training and validation data");
  const auto in = space_->input_shape();
  for (const auto* d : {&train_, &validation_}) {
    const auto& s = d->images.sizes();
    HWNAS_CHECK_T(ConfigError, s.size() == 4 && s[1] == in.c && s[2] == in.h && s[3] == in.w, "The ",
                  d == &train_ ? "training" : "validation", " images are ", d->images.sizes(), " but space '",
                  space_->name(), "' expects inputs of ", in.str(),
                  "; configure the space for the data (e.g. --space-config '{\"input_channels\": 1, \"input_size\": 28}')");
  }
}

std::vector<std::string> ShortTrainingEvaluator::metrics() const {
  return {"val_accuracy", "val_loss", "train_loss", "train_seconds"};
}

Metrics ShortTrainingEvaluator::evaluate_one(const Arch& arch) {
  const uint64_t seed = arch_seed(options_.seed(), arch);
  torch::manual_seed(seed);  // dropout and drop-path during training
  auto net = space_->build(arch, BuildOptions(options_.build()).seed(seed));
  const auto result = train::train(*net, train_, options_.train());
  if (options_.bn_batches() > 0) {
    const int64_t bs = options_.train().batch_size();
    const int64_t n = std::min<int64_t>(train_.size(), options_.bn_batches() * bs);
    const auto batches = data::batches(train_.slice(0, n), bs);
    nn::recalibrate_batch_norm(*net, [&] {
      for (const auto& b : batches) net->forward(b.images);
    });
  }
  const auto eval = train::evaluate(*net, validation_);
  const size_t k = std::max<size_t>(1, result.losses.size() / 10);
  double tail = 0;
  for (size_t i = result.losses.size() - k; i < result.losses.size(); ++i) tail += result.losses[i];
  return {{"val_accuracy", eval.accuracy},
          {"val_loss", eval.loss},
          {"train_loss", tail / static_cast<double>(k)},
          {"train_seconds", result.seconds}};
}

std::vector<Metrics> ShortTrainingEvaluator::do_evaluate(const std::vector<Arch>& archs) {
  std::vector<Metrics> out;
  for (const auto& a : archs) out.push_back(evaluate_one(a));
  return out;
}

}  // namespace hwnas::estimate
