// Throughput of the search-space operations that sit in every search's inner loop.
//   build/benchmarks/bench_space --benchmark_min_time=1
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "hwnas/cost/analytic.h"
#include "hwnas/core/search_space.h"
#include "hwnas/core/threads.h"
#include "hwnas/nn/network.h"
#include "hwnas/search_spaces/registry.h"

namespace {

void BM_Nb201SampleParse(benchmark::State& state) {
  auto space = hwnas::make_space("nb201");
  hwnas::Rng rng(0);
  for (auto _ : state) {
    auto arch = space->sample(rng);
    benchmark::DoNotOptimize(space->parse(arch.str()));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Nb201SampleParse);

void BM_Nb201LayersAndCost(benchmark::State& state) {
  auto space = hwnas::make_space("nb201");
  hwnas::Rng rng(0);
  std::vector<hwnas::Arch> archs;
  for (int i = 0; i < 256; ++i) archs.push_back(space->sample(rng));
  size_t i = 0;
  for (auto _ : state) {
    auto cost = hwnas::cost::network_cost(space->layers(archs[i++ % archs.size()]));
    benchmark::DoNotOptimize(cost.macs);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Nb201LayersAndCost);

void BM_Nb201Build(benchmark::State& state) {
  auto space = hwnas::make_space("nb201");
  hwnas::Rng rng(0);
  for (auto _ : state) {
    auto net = space->build(space->sample(rng));
    benchmark::DoNotOptimize(net.get());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Nb201Build)->Unit(benchmark::kMillisecond);

void BM_Nb201TrainStepFashionMnistShape(benchmark::State& state) {
  hwnas::tune_allocator();
  hwnas::set_threads(static_cast<int>(state.range(0)));
  auto space = hwnas::make_space("nb201", {{"input_channels", 1}, {"input_size", 28}});
  auto arch = space->parse(
      "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|");
  torch::manual_seed(0);
  auto net = space->build(arch);
  auto x = torch::randn({64, 1, 28, 28});
  auto y = torch::randint(0, 10, {64}, torch::kLong);
  torch::optim::SGD sgd(net->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
  for (auto _ : state) {
    sgd.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(net->forward(x), y);
    loss.backward();
    sgd.step();
  }
  state.SetItemsProcessed(state.iterations() * 64);
}
BENCHMARK(BM_Nb201TrainStepFashionMnistShape)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->MinTime(3);

}  // namespace

BENCHMARK_MAIN();
