#include <catch2/catch.hpp>

#include <fstream>
#include <map>

#include <torch/torch.h>

#include "hwnas/cost/analytic.h"
#include "hwnas/nn/network.h"
#include "hwnas/search_spaces/ofa/ofa.h"
#include "hwnas/search_spaces/registry.h"
#include "test_util.h"

using hwnas::spaces::OfaOptions;
using hwnas::spaces::OfaSpace;

namespace {
using hwnas::test::ofa_tutorial_subnet;

// Means of an OFA latency table, read as plain text: "key:" lines followed by "mean: x".
std::map<std::string, double> read_means(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  std::map<std::string, double> means;
  std::string line, key;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != ' ' && line.back() == ':') key = line.substr(0, line.size() - 1);
    else if (line.find("mean:") != std::string::npos) means[key] = std::stod(line.substr(line.find(':') + 1));
  }
  return means;
}
}  // namespace

TEST_CASE("ofa archs are OFA's JSON and canonical", "[spaces][ofa]") {
  OfaSpace space;
  auto arch = space.from_json(ofa_tutorial_subnet());
  auto again = space.parse(arch.str());
  REQUIRE(again == arch);
  // Inactive slots are canonical: the same network whatever OFA's sampler put there.
  auto other = ofa_tutorial_subnet();
  other["ks"][3] = 3;
  other["e"][19] = 3;
  REQUIRE(space.from_json(other) == arch);
  auto ofa = space.to_ofa_json(arch);
  REQUIRE(ofa["d"] == nlohmann::json({2, 2, 3, 4, 3}));
  REQUIRE(ofa["r"] == nlohmann::json({192}));
  REQUIRE(ofa["ks"][0] == 5);
  REQUIRE(space.input_shape_of(arch) == hwnas::Shape{3, 192, 192});
  hwnas::Rng rng(3);
  for (int i = 0; i < 50; ++i) {
    auto a = space.sample(rng);
    REQUIRE(space.parse(a.str()) == a);
    REQUIRE(space.mutate(a, rng) != a);
  }
}

TEST_CASE("ofa layer keys are OFA's latency-table keys", "[spaces][ofa]") {
  // OFA's Note10 tables were measured for the width-1.2 network.
  OfaSpace space(OfaOptions().width_mult(1.2));
  auto arch = space.from_json(ofa_tutorial_subnet());
  auto means = read_means(hwnas::test::data_dir() + "/ofa/note10_lut/192_lookup_table.yaml");
  double total = 0;
  for (const auto& layer : space.layers(arch)) {
    const auto key = OfaSpace::ofa_lut_key(layer);
    INFO(key);
    REQUIRE(means.count(key) == 1);
    total += means[key];
  }
  // OFA's tutorial: 24.73 ms on the Note10 for this subnet.
  REQUIRE(total == Approx(24.73).margin(0.005));
}

TEST_CASE("ofa encoding is OFA's 128-value predictor input", "[spaces][ofa]") {
  OfaSpace space;
  auto v = space.encode(space.from_json(ofa_tutorial_subnet()));
  REQUIRE(v.size() == 128);
  float ones = 0;
  for (float x : v) ones += x;
  REQUIRE(ones == 14 + 14 + 1);  // 14 active blocks: kernel and expand one-hots; resolution
  REQUIRE(v[0 * 3 + 1] == 1.0f);        // block 0 kernel 5
  REQUIRE(v[60 + 0 * 3 + 0] == 1.0f);   // block 0 expand 3
  REQUIRE(v[2 * 3 + 0] == 0.0f);        // block 2 is beyond stage 1's depth 2
  REQUIRE(v[120 + (192 - 112) / 16] == 1.0f);
}

TEST_CASE("ofa counted params equal the built modules", "[spaces][ofa]") {
  OfaSpace space(OfaOptions().num_classes(10).resolutions({32, 48}));
  hwnas::Rng rng(2);
  for (int i = 0; i < 4; ++i) {
    auto arch = space.sample(rng);
    auto net = space.build(arch);
    REQUIRE(hwnas::nn::count_parameters(*net) == hwnas::cost::network_cost(space.layers(arch)).params);
    net->eval();
    const auto r = space.input_shape_of(arch).h;
    REQUIRE(net->forward(torch::randn({1, 3, r, r})).sizes() == torch::IntArrayRef({1, 10}));
  }
}

TEST_CASE("ofa refuses malformed archs naming the field", "[spaces][ofa]") {
  OfaSpace space;
  auto j = ofa_tutorial_subnet();
  j["r"] = {190};
  REQUIRE_THROWS_WITH_ALL(hwnas::ParseError, space.from_json(j), "resolution 190 is off the grid", "188, 192");
  j = ofa_tutorial_subnet();
  j["ks"][4] = 4;
  REQUIRE_THROWS_WITH_ALL(hwnas::ParseError, space.from_json(j), "ks[4] is 4", "allowed: 3, 5, 7");
  j = ofa_tutorial_subnet();
  j.erase("d");
  REQUIRE_THROWS_WITH_ALL(hwnas::ParseError, space.from_json(j), "field 'd' is missing");
  j = ofa_tutorial_subnet();
  j["d"] = {2, 2, 2};
  REQUIRE_THROWS_WITH_ALL(hwnas::ParseError, space.from_json(j), "'d' must be a list of 5");
  REQUIRE_THROWS_WITH_ALL(hwnas::ParseError, space.parse("{ks:"), "not valid JSON");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, hwnas::make_space("ofa", {{"resolutions", {224, 128}}}), "increasing");
}

TEST_CASE("ofa options built in C++ get the JSON config's checks", "[spaces][ofa]") {
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, OfaSpace(OfaOptions().width_mult(0.05)), "width_mult");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, OfaSpace(OfaOptions().resolutions({})), "at least one resolution");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, OfaSpace(OfaOptions().resolutions({64, 32})), "increasing order");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, OfaSpace(OfaOptions().resolutions({16})), "resolutions[0]", "[32, 1024]");
  CHECK(OfaOptions::from_json(OfaOptions().width_mult(1.2).to_json()).width_mult() == 1.2);
}
