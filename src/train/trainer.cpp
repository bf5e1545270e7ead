#include "hwnas/train/trainer.h"

#include <chrono>
#include <cmath>

#include <torch/torch.h>

#include "hwnas/data/loader.h"

#include "hwnas/core/error.h"
#include "hwnas/core/option_fields.h"

namespace hwnas::train {

void TrainOptions::validate() const {
  options::check(*this, "training options");
  HWNAS_CHECK_T(ConfigError, steps_ > 0 || epochs_ > 0, "Expected a positive number of steps or epochs, but got steps=",
                steps_, " epochs=", epochs_);
}

TrainResult train(nn::Network& net, const data::Dataset& data, const TrainOptions& o) {
  HWNAS_CHECK_T(ConfigError, data.size() > 0, "Cannot train on the empty dataset '", data.name, "'");
  o.validate();
  const auto start = std::chrono::steady_clock::now();
  torch::optim::SGD sgd(net.parameters(), torch::optim::SGDOptions(o.lr())
                                              .momentum(o.momentum())
                                              .nesterov(o.nesterov() && o.momentum() > 0)
                                              .weight_decay(o.weight_decay()));
  Rng rng(o.seed());
  const int64_t per_epoch = (data.size() + o.batch_size() - 1) / o.batch_size();
  const int64_t total = o.steps() > 0 ? o.steps() : o.epochs() * per_epoch;
  TrainResult result;
  net.train();
  while (result.steps < total) {
    for (auto& batch : data::batches(data, o.batch_size(), &rng)) {
      if (result.steps >= total) break;
      if (o.cosine() || o.warmup_steps() > 0) {
        double lr = o.lr();
        const int64_t t = result.steps, w = o.warmup_steps();
        if (t < w) {
          lr *= static_cast<double>(t + 1) / static_cast<double>(w);
        } else if (o.cosine()) {
          lr *= 0.5 * (1 + std::cos(M_PI * static_cast<double>(t - w) / static_cast<double>(std::max<int64_t>(total - w, 1))));
        }
        for (auto& group : sgd.param_groups())
          static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
      }
      sgd.zero_grad();
      auto logits = net.forward(batch.images);
      auto loss = torch::nn::functional::cross_entropy(logits, batch.labels);
      const double l = loss.item<double>();
      HWNAS_CHECK(std::isfinite(l), "Training diverged: the loss is ", l, " at step ",
                  result.steps + 1, "; lower the learning rate (now ", o.lr(), ")");
      loss.backward();
      sgd.step();
      ++result.steps;
      result.losses.push_back(l);
      if (o.on_step()) {
        const double acc = logits.argmax(1).eq(batch.labels).to(torch::kFloat64).mean().item<double>();
        o.on_step()(StepInfo{result.steps, total, l, acc});
      }
    }
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

EvalResult evaluate(nn::Network& net, const data::Dataset& data, int64_t batch_size, int64_t workers) {
  HWNAS_CHECK_T(ConfigError, data.size() > 0, "Cannot evaluate on the empty dataset '", data.name, "'");
  torch::NoGradGuard no_grad;
  const bool was_training = net.is_training();
  net.eval();
  double loss_sum = 0, correct = 0;
  // Batch by batch through data::Loader: a streamed dataset is never read whole.
  data::Loader loader(data, data::LoaderOptions().batch_size(batch_size).workers(workers));
  for (data::Batch batch; loader.next(batch);) {
    auto logits = net.forward(batch.images);
    loss_sum += torch::nn::functional::cross_entropy(
                    logits, batch.labels,
                    torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                    .item<double>();
    correct += logits.argmax(1).eq(batch.labels).sum().item<double>();
  }
  net.train(was_training);
  const auto n = static_cast<double>(data.size());
  return EvalResult{loss_sum / n, correct / n, data.size()};
}

}  // namespace hwnas::train
