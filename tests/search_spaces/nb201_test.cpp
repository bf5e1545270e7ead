#include <catch2/catch.hpp>

#include <set>

#include <torch/torch.h>

#include "hwnas/cost/analytic.h"
#include "hwnas/data/fashion_mnist.h"
#include "hwnas/nn/network.h"
#include "hwnas/search_spaces/nb201/nb201.h"
#include "hwnas/search_spaces/registry.h"
#include "test_util.h"

using hwnas::spaces::Nb201Options;
using hwnas::spaces::Nb201Space;

namespace {
const std::string kAllConv3 =
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|";
const std::string kAllNone = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|";

// NAS-Bench-201's FLOPs count the classifier's bias additions on top of the conv and
// linear multiply-accumulates that hwnas reports as MACs.
int64_t nb201_flops(const hwnas::SearchSpace& space, const hwnas::Arch& arch, int64_t classes) {
  return hwnas::cost::network_cost(space.layers(arch)).macs + classes;
}
}  // namespace

TEST_CASE("nb201 has 15625 archs and every string round-trips", "[spaces][nb201]") {
  Nb201Space space;
  REQUIRE(space.size() == 15625);
  auto all = space.enumerate();
  REQUIRE(all.size() == 15625);
  std::set<std::string> strings;
  for (const auto& arch : all) {
    auto parsed = space.parse(arch.str());
    REQUIRE(parsed == arch);
    REQUIRE(parsed.str() == arch.str());
    strings.insert(arch.str());
  }
  REQUIRE(strings.size() == 15625);
}

TEST_CASE("nb201 prints the official string format", "[spaces][nb201]") {
  Nb201Space space;
  // Genes in edge order 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2; ops in the official order.
  auto arch = space.make({3, 3, 4, 1, 3, 1});
  REQUIRE(arch.str() ==
          "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|");
  REQUIRE(space.parse(kAllNone).genes() == std::vector<int>(6, 0));
}

TEST_CASE("nb201 params and FLOPs equal NAS-Bench-201's published values", "[spaces][nb201]") {
  // Published in NAS-Bench-201's benchmark file: over all 15,625 archs, params range over
  // 0.073306-1.531546 MB and FLOPs over 7.78305-220.11969 M on CIFAR-10 (3x32x32, 10
  // classes); CIFAR-100: 0.079156-1.537396 MB, 7.7889-220.12554 M; ImageNet16-120
  // (3x16x16, 120 classes): params from 0.080456 MB.
  struct Case {
    int64_t classes, size, min_params, max_params, min_flops, max_flops;
  };
  const Case cases[] = {{10, 32, 73306, 1531546, 7783050, 220119690},
                        {100, 32, 79156, 1537396, 7788900, 220125540}};
  for (const auto& c : cases) {
    Nb201Space space(Nb201Options().num_classes(c.classes).input_size(c.size));
    auto none = space.parse(kAllNone), conv = space.parse(kAllConv3);
    CHECK(hwnas::cost::network_cost(space.layers(none)).params == c.min_params);
    CHECK(hwnas::cost::network_cost(space.layers(conv)).params == c.max_params);
    CHECK(nb201_flops(space, none, c.classes) == c.min_flops);
    CHECK(nb201_flops(space, conv, c.classes) == c.max_flops);
  }
  Nb201Space imagenet16(Nb201Options().num_classes(120).input_size(16));
  CHECK(hwnas::cost::network_cost(imagenet16.layers(imagenet16.parse(kAllNone))).params == 80456);
  // The extremes over the whole space are these two archs.
  Nb201Space space;
  int64_t lo = INT64_MAX, hi = 0;
  for (const auto& a : space.enumerate()) {
    auto p = hwnas::cost::network_cost(space.layers(a)).params;
    lo = std::min(lo, p);
    hi = std::max(hi, p);
  }
  CHECK(lo == 73306);
  CHECK(hi == 1531546);
}

TEST_CASE("nb201 counted params equal the built module's", "[spaces][nb201]") {
  for (auto opts : {Nb201Options(), Nb201Options().input_channels(1).input_size(28).channels(8).cells_per_stage(2),
                    Nb201Options().skip_dead_ops(true)}) {
    Nb201Space space(opts);
    hwnas::Rng rng(11);
    std::vector<hwnas::Arch> archs{space.parse(kAllNone), space.parse(kAllConv3)};
    for (int i = 0; i < 60; ++i) archs.push_back(space.sample(rng));
    for (const auto& arch : archs) {
      auto net = space.build(arch);
      INFO(arch.str());
      REQUIRE(hwnas::nn::count_parameters(*net) == hwnas::cost::network_cost(space.layers(arch)).params);
    }
  }
}

TEST_CASE("nb201 networks train on a real Fashion-MNIST batch", "[spaces][nb201][data]") {
  auto data = hwnas::data::load_fashion_mnist(hwnas::data::FashionMnistOptions().limit(8));
  Nb201Space space(Nb201Options().input_channels(1).input_size(28));
  hwnas::Rng rng(3);
  for (int i = 0; i < 3; ++i) {
    auto arch = space.sample(rng);
    torch::manual_seed(i);
    auto net = space.build(arch);
    auto logits = net->forward(data.images);
    REQUIRE(logits.sizes() == torch::IntArrayRef({8, 10}));
    auto loss = torch::nn::functional::cross_entropy(logits, data.labels);
    REQUIRE(std::isfinite(loss.item<double>()));
    loss.backward();
    double grad_norm = 0;
    for (const auto& p : net->parameters()) {
      REQUIRE(p.grad().defined());
      REQUIRE(torch::isfinite(p.grad()).all().item<bool>());
      grad_norm += p.grad().norm().item<double>();
    }
    REQUIRE(grad_norm > 0);
  }
}

TEST_CASE("nb201 sampling, mutation and crossover are seeded and valid", "[spaces][nb201]") {
  Nb201Space space;
  hwnas::Rng r1(42), r2(42);
  for (int i = 0; i < 20; ++i) REQUIRE(space.sample(r1) == space.sample(r2));
  hwnas::Rng rng(1);
  for (int i = 0; i < 200; ++i) {
    auto a = space.sample(rng), b = space.sample(rng);
    auto m = space.mutate(a, rng);
    int changed = 0;
    for (size_t g = 0; g < 6; ++g) changed += m.genes()[g] != a.genes()[g];
    REQUIRE(changed == 1);
    auto c = space.crossover(a, b, rng);
    for (size_t g = 0; g < 6; ++g)
      REQUIRE((c.genes()[g] == a.genes()[g] || c.genes()[g] == b.genes()[g]));
    REQUIRE(space.is_valid(m));
    REQUIRE(space.is_valid(c));
  }
}

TEST_CASE("nb201 encoding is one-hot per edge", "[spaces][nb201]") {
  Nb201Space space;
  REQUIRE(space.encoding_size() == 30);
  auto v = space.encode(space.make({0, 1, 2, 3, 4, 0}));
  REQUIRE(v.size() == 30);
  const std::vector<int> hot{0, 6, 12, 18, 24, 25};
  for (size_t i = 0; i < 30; ++i)
    REQUIRE(v[i] == (std::find(hot.begin(), hot.end(), static_cast<int>(i)) != hot.end() ? 1.0f : 0.0f));
}

TEST_CASE("nb201 layers describe the network at any valid input size", "[spaces][nb201]") {
  Nb201Space space;
  auto arch = space.parse(kAllConv3);
  auto layers = space.layers(arch);
  REQUIRE(layers.front().key() == "conv_bn-in:3x32x32-out:16x32x32-k:3-s:1");
  REQUIRE(layers.back().key() == "linear-in:64x1x1-out:10x1x1-bias:1");
  // 15 cells x 6 convs + 15 cells x 2 adds (nodes 2, 3) + stem, 2 reductions, 3 head layers.
  REQUIRE(layers.size() == 90 + 30 + 1 + 2 + 3);
  auto small = space.layers(arch, {3, 16, 16});
  REQUIRE(small.front().output == hwnas::Shape{16, 16, 16});
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, space.layers(arch, {3, 30, 30}), "multiples of 4", "3x30x30");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, space.layers(arch, {1, 32, 32}), "3 input channels");
}

TEST_CASE("nb201 rejects malformed strings naming the fault and position", "[spaces][nb201]") {
  Nb201Space space;
  struct Bad {
    std::string arch, fragment;
  };
  const Bad bad[] = {
      {"", "character 1: node 1 must start with '|'"},
      {"|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", "character 2: unknown op 'conv'"},
      {"|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", "character 7: input 1 of node 1 must come from node 0, but got '~1'"},
      {"|none~0|+|none~0|none~2|+|none~0|none~1|none~2|", "input 2 of node 2 must come from node 1"},
      {"|none~0|+|none~0|+|none~0|none~1|none~2|", "character 18: node 2 has 1 input(s), but needs 2"},
      {"|none~0|+|none~0|none~1|+|none~0|none~1|", "node 3 has 2 input(s), but needs 3"},
      {"|none~0|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "node 1 has more than 1 input(s)"},
      {"|none~0|+|none~0|none~1|+|none~0|none~1|none~2|x", "stray characters"},
      {"|none~0|+|none~0|none~1|+|none~0|none~1|none~2|+|none~0|", "more than 3 nodes"},
      {"|none0|+|none~0|none~1|+|none~0|none~1|none~2|", "has no '~input' part"},
      {"|none~0", "edge is not closed by '|'"},
      {"|none~0|+|none~0|none~1|", "the string ends after node 2 of 3"},
      {"|none~00|+|none~0|none~1|+|none~0|none~1|none~2|", "but got '~00'"},
  };
  for (const auto& b : bad) {
    INFO(b.arch);
    REQUIRE_THROWS_WITH_ALL(hwnas::ParseError, space.parse(b.arch), b.fragment, "nor_conv_3x3");
  }
  REQUIRE_THROWS_WITH_ALL(hwnas::InvalidArchError, space.make({0, 0, 0}), "6 genes, but got 3");
  REQUIRE_THROWS_WITH_ALL(hwnas::InvalidArchError, space.make({0, 0, 0, 0, 0, 5}), "Gene 5",
                          "edge3<-2", "[0, 4]", "but got 5");
}

TEST_CASE("nb201 config is validated", "[spaces][nb201]") {
  REQUIRE(hwnas::make_space("nb201", {{"num_classes", 100}})->config()["num_classes"] == 100);
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, hwnas::make_space("nb201", {{"input_size", 30}}),
                          "divisible by 4", "30");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, hwnas::make_space("nb201", {{"chanels", 8}}),
                          "Unknown key 'chanels'", "channels");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, hwnas::make_space("nb201", {{"channels", 0}}),
                          "'channels'", "[1, 4096]");
}

TEST_CASE("nb201 with skip_dead_ops leaves out the ops a graph optimiser removes, and nothing else", "[spaces][nb201]") {
  Nb201Space all, live(Nb201Options().skip_dead_ops(true));
  const auto count = [](const Nb201Space& s, const std::string& arch) {
    return hwnas::cost::network_cost(s.layers(s.parse(arch))).params;
  };
  // Node 2's conv reaches node 3 only through "none": dead. The output is unchanged.
  const std::string dead_out = "|skip_connect~0|+|nor_conv_3x3~0|none~1|+|none~0|skip_connect~1|none~2|";
  const std::string no_conv = "|skip_connect~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|";
  CHECK(count(all, dead_out) > count(all, no_conv));
  CHECK(count(live, dead_out) == count(all, no_conv));
  torch::manual_seed(0);
  auto a = all.build(all.parse(dead_out));
  torch::manual_seed(0);
  auto b = live.build(live.parse(dead_out));
  CHECK(hwnas::nn::count_parameters(*b) == count(all, no_conv));
  // Node 1 is always zero (its one input is "none"): the conv on it is left out.
  const std::string zero_in = "|none~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|";
  const std::string zero_in_live = "|none~0|+|nor_conv_3x3~0|none~1|+|nor_conv_1x1~0|none~1|skip_connect~2|";
  CHECK(count(live, zero_in) == count(all, zero_in_live));
  // Every op is live: nothing changes.
  CHECK(count(live, kAllConv3) == count(all, kAllConv3));
  CHECK(live.config().at("skip_dead_ops") == true);
  CHECK_FALSE(all.config().contains("skip_dead_ops"));  // default configs read as before
  // The networks compute the same where only unused ops were removed.
  a->eval();
  b->eval();
  const auto x = torch::randn({2, 3, 32, 32});
  torch::NoGradGuard g;
  auto pa = a->named_parameters(), pb = b->named_parameters();
  for (auto& p : pb) p.value().copy_(pa[p.key()]);
  CHECK(torch::allclose(a->forward(x), b->forward(x), 1e-5, 1e-6));
}

TEST_CASE("nb201 options built in C++ get the JSON config's checks", "[spaces][nb201]") {
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, Nb201Space(Nb201Options().channels(0)), "channels", "[1, 4096]");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, Nb201Space(Nb201Options().input_size(30)), "input_size", "divisible by 4");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, Nb201Options::from_json({{"cells", 5}}), "cells");
  // The JSON form is the options, field for field.
  const auto o = Nb201Options().channels(8).cells_per_stage(2).input_channels(1).input_size(28).skip_dead_ops(true);
  CHECK(Nb201Options::from_json(o.to_json()).to_json() == o.to_json());
  CHECK(o.to_json() == nlohmann::json{{"channels", 8}, {"cells_per_stage", 2}, {"input_channels", 1}, {"input_size", 28},
                                      {"num_classes", 10}, {"skip_dead_ops", true}});
}
