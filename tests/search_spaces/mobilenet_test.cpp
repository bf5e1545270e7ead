#include <catch2/catch.hpp>

#include <torch/torch.h>

#include "hwnas/cost/analytic.h"
#include "hwnas/cost/cost_model.h"
#include "hwnas/nn/network.h"
#include "hwnas/search_spaces/mobilenet/mobilenet.h"
#include "hwnas/search_spaces/registry.h"
#include "test_util.h"

namespace {
int64_t counted(const hwnas::SearchSpace& s, const hwnas::Arch& a) { return hwnas::cost::network_cost(s.layers(a)).params; }
std::string mbv2_arch() {
  std::string s;
  for (int n : {2, 3, 4, 3, 3, 1}) {
    if (!s.empty()) s += ":";
    for (int i = 0; i < n; ++i) s += std::string(i ? "," : "") + "k3_e6";
  }
  return s;
}
}  // namespace

TEST_CASE("MobileNetV2 1.0 is an arch of the mobilenet space with torchvision's size", "[spaces][mobilenet]") {
  auto space = hwnas::make_space("mobilenet", {{"preset", "mobilenetv2"}});
  auto arch = space->parse(mbv2_arch());
  // torchvision.models.mobilenet_v2(): 3,504,872 parameters; ~300M multiply-adds at 224x224.
  auto cost = hwnas::cost::network_cost(space->layers(arch));
  REQUIRE(cost.params == 3504872);
  REQUIRE(std::abs(static_cast<double>(cost.macs) - 300e6) / 300e6 < 0.01);
  REQUIRE(hwnas::nn::count_parameters(*space->build(arch)) == 3504872);
}

TEST_CASE("mobilenet presets: counted params equal the built modules", "[spaces][mobilenet]") {
  for (const char* preset : {"proxyless", "fbnet", "mobilenetv2"}) {
    auto space = hwnas::make_space("mobilenet", {{"preset", preset}, {"input_size", 64}, {"num_classes", 10}});
    hwnas::Rng rng(1);
    for (int i = 0; i < 5; ++i) {
      auto arch = space->sample(rng);
      INFO(preset << " " << arch.str());
      REQUIRE(space->parse(arch.str()) == arch);
      auto net = space->build(arch);
      REQUIRE(hwnas::nn::count_parameters(*net) == counted(*space, arch));
      net->eval();
      REQUIRE(net->forward(torch::randn({2, 3, 64, 64})).sizes() == torch::IntArrayRef({2, 10}));
    }
  }
}

TEST_CASE("mobilenet presets have the published layouts", "[spaces][mobilenet]") {
  auto proxyless = hwnas::make_space("mobilenet");
  REQUIRE(proxyless->choices().size() == 21);  // 4+4+4+4+4+1 searchable blocks
  REQUIRE(proxyless->choices()[0].options ==
          std::vector<std::string>{"k3_e3", "k3_e6", "k5_e3", "k5_e6", "k7_e3", "k7_e6", "skip"});
  auto fbnet = hwnas::make_space("mobilenet", {{"preset", "fbnet"}});
  REQUIRE(fbnet->choices().size() == 22);  // 1+4+4+4+4+4+1
  REQUIRE(fbnet->choices()[0].options.size() == 9);
}

TEST_CASE("mobilenet refuses skips that change the shape and bad configs", "[spaces][mobilenet]") {
  auto space = hwnas::make_space("mobilenet");
  std::string arch = "skip,skip,skip,skip:k3_e3,k3_e3,k3_e3,k3_e3:k3_e3,k3_e3,k3_e3,k3_e3:k3_e3,k3_e3,k3_e3,k3_e3:"
                     "k3_e3,k3_e3,k3_e3,k3_e3:k3_e3";
  REQUIRE_THROWS_WITH_ALL(hwnas::InvalidArchError, space->parse(arch), "Block s1b0 cannot be 'skip'",
                          "16 -> 24 channels, stride 2", "allowed there: k3_e3");
  REQUIRE_THROWS_WITH_ALL(hwnas::ParseError, space->parse("k9_e3"), "stage(s)", "candidates: k3_e3");
  std::string bad = arch;
  bad.replace(0, 4, "k4_e3");
  REQUIRE_THROWS_WITH_ALL(hwnas::ParseError, space->parse(bad), "unknown candidate 'k4_e3' at stage 1 block 0");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, hwnas::make_space("mobilenet", {{"preset", "resnet"}}),
                          "Unknown mobilenet preset 'resnet'", "fbnet, mobilenetv2, proxyless");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, hwnas::make_space("mobilenet", {{"candidates", {"k4_e3"}}}),
                          "Invalid candidate 'k4_e3'");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, hwnas::make_space("mobilenet", {{"candidates", {"skip"}}}),
                          "at least one op besides 'skip'");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError,
                          hwnas::make_space("mobilenet", {{"stages", {{{"channels", 8}, {"act", "gelu"}}}}}),
                          "Unknown value 'gelu'", "relu6");
  // A custom layout from JSON: two stages with squeeze-excite and h-swish.
  auto custom = hwnas::make_space(
      "mobilenet", {{"input_size", 32},
                    {"num_classes", 10},
                    {"stages", {{{"channels", 24}, {"blocks", 2}, {"stride", 2}, {"act", "hswish"}, {"se", true}},
                                {{"channels", 40}, {"blocks", 2}, {"stride", 2}, {"act", "hswish"}, {"se", true}}}},
                    {"candidates", {"k3_e4", "k5_e6", "skip"}}});
  hwnas::Rng rng(0);
  auto a = custom->sample(rng);
  REQUIRE(hwnas::nn::count_parameters(*custom->build(a)) == counted(*custom, a));
}

TEST_CASE("mobilenet options built in C++ get the JSON config's checks", "[spaces][mobilenet]") {
  using hwnas::spaces::MobileNetOptions;
  using hwnas::spaces::MobileNetSpace;
  // A preset with chained changes is the space the JSON makes.
  CHECK(MobileNetSpace(MobileNetOptions::from_preset("fbnet").input_channels(1).input_size(28).num_classes(10)).config() ==
        hwnas::make_space("mobilenet", {{"preset", "fbnet"}, {"input_channels", 1}, {"input_size", 28}, {"num_classes", 10}})
            ->config());
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, MobileNetOptions::from_preset("resnet"), "resnet", "proxyless");
  const auto c = MobileNetOptions::from_preset("fbnet");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, MobileNetSpace(MobileNetOptions(c).stages({})), "'stages'", "non-empty list");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, MobileNetSpace(MobileNetOptions(c).input_size(2)), "input_size");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, MobileNetSpace(MobileNetOptions(c).stem_kernel(4)), "stem kernel must be odd");
}

TEST_CASE("mobilenet layer parts make each arch's layers and its analytic costs", "[spaces][mobilenet]") {
  for (const char* preset : {"proxyless", "fbnet", "mobilenetv2"}) {
    auto space = std::shared_ptr<const hwnas::SearchSpace>(hwnas::make_space("mobilenet", {{"preset", preset}, {"input_size", 64}}));
    const hwnas::cost::AnalyticCostModel analytic(space);
    hwnas::Rng rng(5);
    for (int t = 0; t < 50; ++t) {
      const auto arch = space->sample(rng);
      const auto layers = hwnas::test::require_parts_make_layers(*space, arch);
      REQUIRE(*analytic.evaluate_without_layers(arch) == analytic.evaluate(arch, layers));
    }
  }
}
