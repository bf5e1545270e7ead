// A tour of the search-space API: list the registered spaces, sample architectures,
// count their parameters and MACs, build one as a LibTorch module and run it.
//
//   ./space_tour [seed]
#include <cstdlib>
#include <iostream>

#include <torch/torch.h>

#include "hwnas/hwnas.h"
#include "hwnas/nn/network.h"
#include "hwnas/search_spaces/registry.h"

int main(int argc, char** argv) try {
  const uint64_t seed = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 0;
  for (const auto& entry : hwnas::space_registry().entries())
    std::cout << entry.name << ": " << entry.description << "\n";

  // NAS-Bench-201 configured for 28x28 grey images (Fashion-MNIST).
  auto space = hwnas::make_space("nb201", {{"input_channels", 1}, {"input_size", 28}});
  hwnas::Rng rng(seed);
  for (int i = 0; i < 3; ++i) {
    hwnas::Arch arch = space->sample(rng);
    auto cost = hwnas::cost::network_cost(space->layers(arch));
    std::cout << arch.str() << "  params=" << cost.params << "  MACs=" << cost.macs << "\n";
  }

  hwnas::Arch arch = space->parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|");
  torch::manual_seed(seed);
  auto net = space->build(arch);
  net->eval();
  auto logits = net->forward(torch::randn({2, 1, 28, 28}));
  std::cout << "logits " << logits.sizes() << " from a model with " << hwnas::nn::count_parameters(*net)
            << " parameters\n";
  return 0;
} catch (const hwnas::Error& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 2;
}
