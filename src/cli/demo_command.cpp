// hwnas demo: a first look without a search. Samples NAS-Bench-201 architectures for
// Fashion-MNIST, prints their exact params and MACs, and trains each briefly on real batches.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <torch/torch.h>

#include <memory>
#include <ostream>

#include <nlohmann/json.hpp>

#include "hwnas/cli/cli.h"
#include "cli/context.h"
#include "hwnas/core/error.h"
#include "hwnas/cost/analytic.h"
#include "hwnas/data/fashion_mnist.h"
#include "hwnas/data/synthetic.h"
#include "hwnas/nn/batch_norm.h"
#include "hwnas/nn/network.h"
#include "hwnas/search_spaces/registry.h"
#include "hwnas/train/trainer.h"

namespace hwnas::cli {
namespace {

struct DemoArgs {
  std::string data_dir;
  bool synthetic = false;
  int64_t num = 3;
  int64_t steps = 100;
  int64_t bn_batches = 10;
  int64_t batch = 64;
  int64_t eval = 1000;
  uint64_t seed = 1;
};

void run_demo(Context& ctx, const DemoArgs& a) {
  auto& o = *ctx.out;
  data::Dataset train_data, test_data;
  if (a.synthetic) {
    train_data = data::make_synthetic(data::SyntheticOptions().samples(512).seed(a.seed));
    test_data = data::make_synthetic(data::SyntheticOptions().samples(a.eval).seed(a.seed + 1));
  } else {
    train_data = data::load_fashion_mnist(data::FashionMnistOptions().root(a.data_dir));
    test_data = data::load_fashion_mnist(
        data::FashionMnistOptions().root(a.data_dir).train(false).limit(a.eval));
  }
  const auto& shape = train_data.images.sizes();
  auto space = make_space("nb201", {{"input_channels", shape[1]},
                                    {"input_size", shape[2]},
                                    {"num_classes", train_data.num_classes}});
  o << fmt::format("hwnas demo: NAS-Bench-201 on {} ({} train / {} test images), CPU, {} threads (--threads)\n",
                   train_data.name, train_data.size(), test_data.size(), torch::get_num_threads());
  o << fmt::format("space: {} {} ({:g} architectures)\n\n", space->name(), space->config().dump(),
                   space->size());

  Rng rng(a.seed);
  std::vector<Arch> archs;
  o << fmt::format("Sampled architectures (seed {}); params counted from the layer specs and "
                   "checked against the built LibTorch module:\n", a.seed);
  o << fmt::format("{:>3} {:>10} {:>13}  {}\n", "#", "params", "MACs", "arch");
  std::vector<std::shared_ptr<nn::Network>> nets;
  for (int64_t i = 0; i < a.num; ++i) {
    archs.push_back(space->sample(rng));
    const auto cost = cost::network_cost(space->layers(archs.back()));
    nets.push_back(space->build(archs.back(), BuildOptions().seed(a.seed + static_cast<uint64_t>(i))));
    const int64_t built = nn::count_parameters(*nets.back());
    HWNAS_INTERNAL_ASSERT(built == cost.params, "counted ", cost.params, " params but built ", built,
                          " for ", archs.back().str());
    o << fmt::format("{:>3} {:>10} {:>13}  {}\n", i, cost.params, cost.macs, archs.back().str());
  }
  o << fmt::format("\nTraining each for {} SGD steps (batch {}, lr 0.05, momentum 0.9) on real "
                   "batches, recalibrating BatchNorm on {} batches, then evaluating on {} test images:\n",
                   a.steps, a.batch, a.bn_batches, test_data.size());
  o << fmt::format("{:>3} {:>11} {:>11} {:>10} {:>10} {:>9}\n", "#", "loss@start", "loss@end",
                   "test acc", "test loss", "ms/step");
  for (size_t i = 0; i < nets.size(); ++i) {
    auto result = train::train(*nets[i], train_data,
                               train::TrainOptions().steps(a.steps).batch_size(a.batch).seed(a.seed + i));
    // Short training leaves BatchNorm's running statistics behind the weights:
    // re-estimate them on a few training batches before evaluating.
    if (a.bn_batches > 0) {
      const int64_t n = std::min<int64_t>(train_data.size(), a.bn_batches * a.batch);
      auto bn_batches = data::batches(train_data.slice(0, n), a.batch);
      nn::recalibrate_batch_norm(*nets[i], [&] {
        for (const auto& b : bn_batches) nets[i]->forward(b.images);
      });
    }
    auto eval = train::evaluate(*nets[i], test_data);
    // Mean of the first and last few steps: single-batch losses are noisy.
    const size_t k = std::min<size_t>(5, result.losses.size());
    double first = 0, last = 0;
    for (size_t j = 0; j < k; ++j) {
      first += result.losses[j] / static_cast<double>(k);
      last += result.losses[result.losses.size() - 1 - j] / static_cast<double>(k);
    }
    o << fmt::format("{:>3} {:>11.4f} {:>11.4f} {:>9.2f}% {:>10.4f} {:>9.1f}\n", i, first, last,
                     100 * eval.accuracy, eval.loss, 1000 * result.seconds / static_cast<double>(result.steps));
    o.flush();
  }
  o << "\n(loss@start and loss@end average the first and last 5 steps. This demonstration "
       "becomes a hardware-aware search in later releases.)\n";
}

}  // namespace

void add_demo_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand(
      "demo", "Sample NAS-Bench-201 archs for Fashion-MNIST, print params/MACs, train each briefly");
  auto a = std::make_shared<DemoArgs>();
  cmd->add_option("--data-dir", a->data_dir,
                  "Fashion-MNIST folder (default: $HWNAS_FASHION_MNIST_DIR or /usr/share/datasets/fashion-mnist)");
  cmd->add_flag("--synthetic", a->synthetic, "Use a small synthetic dataset instead of Fashion-MNIST");
  cmd->add_option("-n,--num", a->num, "Architectures to sample")->capture_default_str()->check(CLI::Range(1, 100));
  cmd->add_option("--steps", a->steps, "Training steps per architecture")->capture_default_str()->check(CLI::Range(1, 100000));
  cmd->add_option("--batch", a->batch, "Batch size")->capture_default_str()->check(CLI::Range(1, 4096));
  cmd->add_option("--bn-batches", a->bn_batches, "Training batches to re-estimate BatchNorm statistics on before evaluating (0: none)")->capture_default_str()->check(CLI::Range(0, 1000));
  cmd->add_option("--eval", a->eval, "Test images to evaluate on")->capture_default_str()->check(CLI::Range(1, 10000));
  add_seed_option(*cmd, a->seed, "Random seed");
  cmd->callback([&ctx, a] { ctx.action = [&ctx, a] { run_demo(ctx, *a); }; });
}

}  // namespace hwnas::cli
