#include <catch2/catch.hpp>

#include <torch/torch.h>

#include "hwnas/cost/analytic.h"
#include "hwnas/nn/network.h"
#include "hwnas/search_spaces/darts/darts.h"
#include "hwnas/search_spaces/registry.h"
#include "test_util.h"

using hwnas::spaces::DartsOptions;
using hwnas::spaces::DartsSpace;

TEST_CASE("DARTS-V2 at C=36, 20 cells has the published size", "[spaces][darts]") {
  // The DARTS paper reports 3.3M parameters; its training script logs 3.349342 MB
  // (auxiliary head excluded), which is what hwnas counts and builds.
  DartsSpace space;
  auto arch = space.parse(DartsSpace::kDartsV2);
  REQUIRE(arch.str() == DartsSpace::kDartsV2);
  REQUIRE(hwnas::cost::network_cost(space.layers(arch)).params == 3349342);
  REQUIRE(hwnas::nn::count_parameters(*space.build(arch)) == 3349342);
  DartsSpace with_aux(DartsOptions().auxiliary(true));
  auto aux_arch = with_aux.parse(DartsSpace::kDartsV2);
  const int64_t total = hwnas::nn::count_parameters(*with_aux.build(aux_arch));
  REQUIRE(total == hwnas::cost::network_cost(with_aux.layers(aux_arch)).params);
  REQUIRE(total > 3349342);
}

TEST_CASE("darts genotypes round-trip and accept range() concat", "[spaces][darts]") {
  DartsSpace space(DartsOptions().channels(4).layers(3));
  std::string v1_style = DartsSpace::kDartsV2;
  v1_style.replace(v1_style.find("normal_concat=[2, 3, 4, 5]"), 26, "normal_concat=range(2, 6)");
  REQUIRE(space.parse(v1_style).str() == DartsSpace::kDartsV2);
  hwnas::Rng rng(4);
  for (int i = 0; i < 100; ++i) {
    auto a = space.sample(rng);
    REQUIRE(space.parse(a.str()) == a);
    REQUIRE(space.is_valid(space.mutate(a, rng)));
  }
}

TEST_CASE("darts networks: counted params equal built, forward and auxiliary head", "[spaces][darts]") {
  DartsSpace space(DartsOptions().channels(4).layers(3).input_channels(1).input_size(8));
  hwnas::Rng rng(5);
  for (int i = 0; i < 10; ++i) {
    auto arch = space.sample(rng);
    INFO(arch.str());
    auto net = space.build(arch);
    REQUIRE(hwnas::nn::count_parameters(*net) == hwnas::cost::network_cost(space.layers(arch)).params);
    REQUIRE(net->forward(torch::randn({2, 1, 8, 8})).sizes() == torch::IntArrayRef({2, 10}));
  }
  DartsSpace aux(DartsOptions().channels(4).layers(3).auxiliary(true));
  auto net = aux.build(aux.parse(DartsSpace::kDartsV2));
  net->train();
  net->forward(torch::randn({2, 3, 32, 32}));
  REQUIRE(net->auxiliary_logits().sizes() == torch::IntArrayRef({2, 10}));
  net->eval();
  net->forward(torch::randn({2, 3, 32, 32}));
  REQUIRE_FALSE(net->auxiliary_logits().defined());
}

TEST_CASE("darts refuses malformed genotypes naming the fault", "[spaces][darts]") {
  DartsSpace space;
  auto with = [](std::string from, const std::string& a, const std::string& b) {
    from.replace(from.find(a), a.size(), b);
    return from;
  };
  const std::string v2 = DartsSpace::kDartsV2;
  REQUIRE_THROWS_WITH_ALL(hwnas::ParseError, space.parse(with(v2, "'dil_conv_3x3', 2", "'conv_9x9', 2")),
                          "unknown op 'conv_9x9'", "sep_conv_3x3");
  REQUIRE_THROWS_WITH_ALL(hwnas::ParseError, space.parse(with(v2, "('sep_conv_3x3', 1), ('sep_conv_3x3', 0)", "('sep_conv_3x3', 1), ('sep_conv_3x3', 4)")),
                          "node 1 of the normal cell can take inputs 0..2, but got 4");
  REQUIRE_THROWS_WITH_ALL(hwnas::ParseError, space.parse(with(v2, "normal_concat=[2, 3, 4, 5]", "normal_concat=[4, 5]")),
                          "normal_concat must be [2, 3, 4, 5]");
  REQUIRE_THROWS_WITH_ALL(hwnas::ParseError, space.parse(with(v2, ", ('dil_conv_3x3', 2)]", "]")),
                          "normal has 7 (op, input) pairs, needs 8");
  REQUIRE_THROWS_WITH_ALL(hwnas::ParseError, space.parse(v2 + " x"), "stray characters");
  REQUIRE_THROWS_WITH_ALL(hwnas::ParseError, space.parse("Genotype(normal=[("), "character 19: expected a quoted op name");
  REQUIRE_THROWS_WITH_ALL(hwnas::InvalidArchError,
                          space.parse(with(v2, "('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0)",
                                           "('sep_conv_3x3', 0), ('sep_conv_3x3', 0), ('sep_conv_3x3', 0)")),
                          "Node 0 of the normal cell applies sep_conv_3x3 to input 0 twice");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, hwnas::make_space("darts", {{"auxiliary", true}, {"input_size", 28}}),
                          "auxiliary head needs", "\"auxiliary\": false");
}

TEST_CASE("darts options built in C++ get the JSON config's checks", "[spaces][darts]") {
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, DartsSpace(DartsOptions().layers(2)), "layers", "[3, 200]");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, DartsSpace(DartsOptions().input_size(30)), "input_size", "divisible by 4");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, DartsSpace(DartsOptions().input_size(64).auxiliary(true)), "auxiliary");
  CHECK(DartsOptions().to_json() == nlohmann::json{{"channels", 36}, {"layers", 20}, {"input_channels", 3},
                                                   {"input_size", 32}, {"num_classes", 10}, {"auxiliary", false}});
}
