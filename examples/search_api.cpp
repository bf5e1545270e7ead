// A hardware-aware search with the C++ API alone: regularized evolution over the OFA
// space, accuracy from Once-for-All's predictor, latency from its Note10 table, at most
// 25 ms. Run: search_api [folder with acc_predictor.json and note10_lut/]
#include <iostream>

#include "hwnas/core/search_space.h"
#include "hwnas/cost/latency_table.h"
#include "hwnas/predictors/mlp/mlp.h"
#include "hwnas/search_spaces/registry.h"
#include "hwnas/strategy/strategy.h"

int main(int argc, char** argv) {
  using namespace hwnas;
  const std::string ofa = argc > 1 ? argv[1] : "data/ofa";
  std::shared_ptr<const SearchSpace> space =
      make_space("ofa", {{"width_mult", 1.2}, {"resolutions", {160, 176, 192, 208, 224}}});
  auto table = std::make_shared<cost::LatencyTable>(cost::LatencyTable::from_ofa_yaml(ofa + "/note10_lut", "note10"));
  cost::LatencyModel latency(table, space);
  auto accuracy = predictors::import_ofa_accuracy_predictor(ofa + "/acc_predictor.json", *space);

  auto search = strategy::make_strategy("evolution", {{"population", 100}, {"sample_size", 25}});
  search->setup(space, {{"imagenet_top1", strategy::Direction::kMaximize}}, /*seed=*/0);
  for (int generation = 0; generation < 50; ++generation) {
    const auto archs = search->ask(100);
    const auto acc = accuracy->predict(*space, archs).mean;  // one batched pass
    std::vector<strategy::Evaluation> results;
    for (size_t i = 0; i < archs.size(); ++i) {
      const double ms = latency.predict(archs[i]);
      results.push_back({archs[i], {acc[i]}, /*violation=*/std::max(0.0, ms - 25.0) / 25.0});
    }
    search->tell(results);
  }
  const auto best = search->best();
  std::cout << "best: " << best.arch.str() << "\npredicted top-1 " << best.objectives[0] << " at "
            << latency.predict(best.arch) << " ms on the Note10 (" << search->history().size() << " candidates)\n";
  return best.violation == 0 ? 0 : 1;
}
