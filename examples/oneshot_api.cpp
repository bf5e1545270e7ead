// One-shot search with the C++ API: a latency-aware GDAS search on a small NAS-Bench-201
// supernet, then a sandwich-trained supernet scoring archs with inherited weights.
// Run: oneshot_api [fashion-mnist folder]   (synthetic images when none is given)
#include <iostream>

#include "hwnas/core/error.h"
#include "hwnas/core/search_space.h"
#include "hwnas/cost/analytic.h"
#include "hwnas/cost/latency_table.h"
#include "hwnas/data/fashion_mnist.h"
#include "hwnas/data/synthetic.h"
#include "hwnas/estimate/inherited.h"
#include "hwnas/oneshot/differentiable.h"
#include "hwnas/oneshot/supernet_training.h"
#include "hwnas/search_spaces/registry.h"

int main(int argc, char** argv) try {
  using namespace hwnas;
  const auto all = argc > 1 ? data::load_fashion_mnist(data::FashionMnistOptions().root(argv[1]).limit(1200))
                            : data::make_synthetic(data::SyntheticOptions().samples(1200));
  auto [train, valid] = data::split(all, 0.2, 0);
  std::shared_ptr<const SearchSpace> space = make_space(
      "nb201", {{"channels", 8}, {"cells_per_stage", 1}, {"input_channels", 1}, {"input_size", 28}});

  // A latency table; here each layer's MACs stand in for milliseconds x 1e6 (hwnas profile
  // measures a real one: `hwnas profile -s nb201 --space-config ... -o cpu.json`).
  auto table = std::make_shared<cost::LatencyTable>();
  table->space = space->name();
  table->space_config = space->config();
  for (const auto& l : space->layer_universe())
    table->set("", l.key(), {1e-6 * static_cast<double>(cost::layer_cost(l).macs), 0, 1, {}});
  auto latency = std::make_shared<cost::LatencyModel>(table, space);

  // Target 2.5 "ms": between the fastest arch and the uniform mixture (both printed).
  auto hw = oneshot::HardwareLossOptions().form("hinge").target_ms(2.5).lambda(1.0);
  oneshot::DifferentiableSearch search(
      space, oneshot::DifferentiableOptions().method("gdas").epochs(3).batch_size(32).arch_lr(0.01).hardware(hw),
      latency);
  std::cout << "fastest arch " << search.fastest_latency_ms() << " ms, uniform mixture E[lat] "
            << search.expected_latency_ms() << " ms, target " << hw.target_ms() << " ms\n";
  search.run(train, [](const oneshot::EpochReport& r) {
    std::cout << "epoch " << r.epoch << ": loss " << r.train_loss << ", E[lat] " << r.expected_latency_ms
              << " ms, derived " << r.derived << " (" << r.derived_latency_ms << " ms)\n";
  });
  const Arch best = search.select(valid);
  std::cout << "GDAS picks " << best << " at " << latency->predict(best) << " ms\n";

  oneshot::SupernetTrainer trainer(space, oneshot::SupernetTrainOptions().rule("sandwich").epochs(2).batch_size(32));
  trainer.run(train);
  estimate::InheritedWeightsEvaluator inherited(trainer.supernet(), train, valid,
                                                estimate::InheritedOptions().bn_batches(2).batch_size(64));
  const auto scores = inherited.evaluate({best, trainer.largest()});
  std::cout << "inherited-weight accuracy: picked " << scores[0].at("val_accuracy") << ", largest "
            << scores[1].at("val_accuracy") << "\n";
} catch (const hwnas::Error& e) {
  std::cerr << "oneshot_api: " << e.what() << "\n";
  return 1;
}
