#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <numeric>

#include <torch/torch.h>

#include "hwnas/core/search_space.h"
#include "hwnas/cost/analytic.h"
#include "hwnas/cost/latency_table.h"
#include "hwnas/data/synthetic.h"
#include "hwnas/experiment/runner.h"
#include "hwnas/nn/mixed.h"
#include "hwnas/oneshot/differentiable.h"
#include "hwnas/search_spaces/registry.h"
#include "test_util.h"

using namespace hwnas;
using oneshot::DifferentiableOptions;
using oneshot::DifferentiableSearch;

namespace {
// Tiny spaces on 1x16x16 synthetic images.
const nlohmann::json kNb201 = {{"channels", 8}, {"cells_per_stage", 1}, {"input_channels", 1}, {"input_size", 16}};
const nlohmann::json kMobile = {{"preset", "proxyless"},
                                {"input_channels", 1},
                                {"input_size", 16},
                                {"num_classes", 10},
                                {"stem", {{"channels", 8}, {"stride", 1}}},
                                {"first_block", {{"channels", 8}}},
                                {"stages", {{{"channels", 16}, {"blocks", 2}, {"stride", 2}}}},
                                {"head", {{"channels", 32}}}};

data::Dataset tiny_data(int64_t n = 256, uint64_t seed = 1) {
  return data::make_synthetic(data::SyntheticOptions().samples(n).size(16).seed(seed));
}

DifferentiableOptions quick(const std::string& method) {
  return DifferentiableOptions().method(method).epochs(2).steps_per_epoch(3).batch_size(16).arch_lr(0.01);
}

// A latency table of the space whose entries are the layers' MACs (x 1e-6 ms) plus 1 us.
std::shared_ptr<cost::LatencyModel> mac_table(std::shared_ptr<SearchSpace> space) {
  auto table = std::make_shared<cost::LatencyTable>();
  table->device.name = "sim";
  table->space = space->name();
  table->space_config = space->config();
  for (const auto& l : space->layer_universe())
    table->set("", l.key(), {1e-6 * static_cast<double>(cost::layer_cost(l).macs) + 0.001, 0, 1, {}});
  return std::make_shared<cost::LatencyModel>(table, space);
}

const nlohmann::json kDarts = {{"channels", 8}, {"layers", 3}, {"input_channels", 1}, {"input_size", 16}};

std::shared_ptr<SearchSpace> space_of(const std::string& name) {
  return std::shared_ptr<SearchSpace>(make_space(name, name == "nb201" ? kNb201 : name == "darts" ? kDarts : kMobile));
}
}  // namespace

TEST_CASE("every differentiable method searches nb201, darts and the mobile chain space", "[oneshot]") {
  for (const std::string space_name : {"nb201", "darts", "mobilenet"}) {
    for (const auto& method : oneshot::differentiable_methods()) {
      if (method == "pcdarts" && space_name == "mobilenet") continue;  // refused: tested below
      DYNAMIC_SECTION(space_name << " / " << method) {
        auto space = space_of(space_name);
        DifferentiableSearch search(space, quick(method));
        const auto reports = search.run(tiny_data());
        REQUIRE(reports.size() == 2);
        CHECK(search.epoch() == 2);
        for (const auto& r : reports) {
          CHECK(std::isfinite(r.train_loss));
          CHECK(r.arch_loss > 0);
          CHECK(space->is_valid(r.derived));
        }
        const auto probs = search.probabilities();
        REQUIRE(probs.size() == (space_name == "darts" ? 28 : space->choices().size()));
        for (const auto& p : probs) CHECK(std::accumulate(p.begin(), p.end(), 0.0) == Approx(1.0));
        // The alphas moved away from their near-uniform start.
        const auto a = search.alphas();
        double spread = 0;
        for (const auto& v : a)
          for (double x : v)
            if (std::isfinite(x)) spread = std::max(spread, std::abs(x));
        CHECK(spread > 0.005);
        CHECK(space->is_valid(search.derive()));
      }
    }
  }
}

TEST_CASE("the mobile space's disallowed skips get no probability", "[oneshot]") {
  auto space = space_of("mobilenet");
  DifferentiableSearch search(space, quick("darts"));
  search.run(tiny_data());
  const auto probs = search.probabilities();
  const auto& skip = space->choices()[0].options;  // s1b0 changes the shape: skip not allowed
  REQUIRE(skip.back() == "skip");
  CHECK(probs[0].back() == 0.0);
  CHECK(probs[1].back() > 0.0);  // s1b1 keeps it
}

TEST_CASE("second-order DARTS differs from first order and stays finite", "[oneshot]") {
  auto space = space_of("nb201");
  DifferentiableSearch first(space, quick("darts")), second(space, quick("darts").order(2));
  first.run(tiny_data());
  second.run(tiny_data());
  const auto a1 = first.alphas(), a2 = second.alphas();
  double diff = 0;
  for (size_t c = 0; c < a1.size(); ++c)
    for (size_t k = 0; k < a1[c].size(); ++k) {
      REQUIRE(std::isfinite(a2[c][k]));
      diff = std::max(diff, std::abs(a1[c][k] - a2[c][k]));
    }
  CHECK(diff > 1e-6);
}

TEST_CASE("resuming a differentiable search gives the alphas of an uninterrupted run", "[oneshot]") {
  const auto dir = test::temp_dir("oneshot_resume");
  for (const std::string method : {"darts", "gdas", "proxyless", "pcdarts"}) {
    DYNAMIC_SECTION(method) {
      auto space = space_of(method == "pcdarts" ? "darts" : "nb201");  // darts: with edge normalisation
      DifferentiableSearch whole(space, quick(method).epochs(3)), again(space, quick(method).epochs(3));
      whole.run(tiny_data());
      again.run(tiny_data());
      REQUIRE(again.alphas() == whole.alphas());  // deterministic given the seed
      const auto ckpt = dir + "/" + method + ".pt";
      {  // interrupted after the first epoch (the stop flag a Ctrl-C handler sets)
        std::atomic<bool> stop{true};
        DifferentiableSearch part(space, quick(method).epochs(3).checkpoint(ckpt));
        part.run(tiny_data(), {}, &stop);
        CHECK(part.epoch() == 1);
      }
      DifferentiableSearch resumed(space, quick(method).epochs(3).checkpoint(ckpt));
      resumed.load(ckpt);
      CHECK(resumed.epoch() == 1);
      resumed.run(tiny_data());
      CHECK(resumed.alphas() == whole.alphas());
      CHECK(resumed.reports().size() == 3);
      CHECK(resumed.derive() == whole.derive());
    }
  }
}

TEST_CASE("the expected latency is the table latency for one-hot distributions", "[oneshot]") {
  for (const std::string name : {"nb201", "mobilenet"}) {
    INFO(name);
    auto space = space_of(name);
    auto model = mac_table(space);
    DifferentiableSearch search(space, quick("darts"), model);
    Rng rng(5);
    for (int i = 0; i < 20; ++i) {
      const auto arch = space->sample(rng);
      // (float32 costs) nb201 node sums ("add" layers) depend on several edges; the loss leaves them out
      // (the reference arch, every edge "none", has none).
      const auto kinds = model->by_kind(arch);
      const double add = kinds.count("add") ? kinds.at("add") : 0.0;
      if (name == "mobilenet") REQUIRE(add == 0.0);
      CHECK(search.additive_latency_ms(arch) == Approx(model->predict(arch) - add).epsilon(1e-6));
    }
    CHECK(search.fastest_latency_ms() > 0);
    CHECK(search.expected_latency_ms() > search.fastest_latency_ms());
  }
}

TEST_CASE("the hardware loss lowers the expected latency", "[oneshot]") {
  auto space = space_of("nb201");
  auto model = mac_table(space);
  for (const std::string form : {"proxyless", "hinge", "fbnet"}) {
    DYNAMIC_SECTION(form) {
      auto hw = oneshot::HardwareLossOptions().form(form).device("sim").target_ms(0.6).lambda(2.0).alpha(1.0).beta(2.0);
      auto with = quick("darts").arch_lr(0.05).hardware(hw);
      DifferentiableSearch plain(space, quick("darts").arch_lr(0.05), model), aware(space, with, model);
      const double start = aware.expected_latency_ms();
      plain.run(tiny_data());
      aware.run(tiny_data());
      CHECK(aware.expected_latency_ms() < start);
      CHECK(aware.expected_latency_ms() < plain.expected_latency_ms());
      CHECK(aware.reports().back().derived_latency_ms == Approx(model->predict(aware.reports().back().derived)));
      CHECK(aware.reports().back().derived_latency_ms <= 0.6);
    }
  }
}

TEST_CASE("the derived arch meets the latency target", "[oneshot]") {
  auto space = space_of("nb201");
  auto model = mac_table(space);
  DifferentiableSearch plain(space, quick("darts").arch_lr(0.05), model);
  plain.run(tiny_data());
  const auto free = plain.derive();
  const double target = plain.fastest_latency_ms() + 0.25 * (model->predict(free) - plain.fastest_latency_ms());
  REQUIRE(model->predict(free) > target);
  // lambda 0: the same alphas as the plain search, only the derivation differs.
  auto hw = oneshot::HardwareLossOptions().form("hinge").device("sim").target_ms(target).lambda(0);
  DifferentiableSearch held(space, quick("darts").arch_lr(0.05).hardware(hw), model),
      loose(space, quick("darts").arch_lr(0.05).hardware(hw.within_target(false)), model);
  held.run(tiny_data());
  loose.run(tiny_data());
  REQUIRE(held.probabilities() == plain.probabilities());
  CHECK(loose.derive() == free);
  const auto arch = held.derive();
  CHECK(model->predict(arch) <= target);
  CHECK(held.reports().back().derived == arch);
  // It still computes something of its input (the derivation skips switches that would cut
  // every path, e.g. "none" on all edges into a node).
  auto net = space->build(arch);
  net->eval();
  torch::NoGradGuard no_grad;
  const auto s = space->input_shape_of(arch);
  const auto y = net->forward(torch::randn({2, s.c, s.h, s.w}));
  CHECK((y[0] - y[1]).abs().max().item<double>() > 1e-6);
}

TEST_CASE("the hinge loss leaves a search that is below its target alone", "[oneshot]") {
  auto space = space_of("nb201");
  auto model = mac_table(space);
  DifferentiableSearch plain(space, quick("darts").arch_lr(0.05), model);
  const double above_all = 1e6;  // ms: above every arch of the space
  auto hw = oneshot::HardwareLossOptions().form("hinge").device("sim").target_ms(above_all).lambda(2.0);
  DifferentiableSearch aware(space, quick("darts").arch_lr(0.05).hardware(hw), model);
  plain.run(tiny_data());
  aware.run(tiny_data());
  REQUIRE(aware.expected_latency_ms() < above_all);
  CHECK(aware.probabilities() == plain.probabilities());
}

TEST_CASE("DARTS-PT selection gives a valid arch, the same each time", "[oneshot]") {
  auto space = space_of("nb201");
  auto options = quick("darts").selection("pt").pt_batches(2);
  DifferentiableSearch a(space, options), b(space, options);
  a.run(tiny_data());
  b.run(tiny_data());
  const auto valid = tiny_data(64, 9);
  const auto x = a.select(valid);
  CHECK(space->is_valid(x));
  CHECK(b.select(valid) == x);
  DifferentiableSearch tuned(space, options.pt_tune_steps(2));
  tuned.run(tiny_data());
  CHECK(space->is_valid(tuned.select(valid)));
}

TEST_CASE("differentiable search refuses bad input with the fix", "[oneshot]") {
  auto nb201 = space_of("nb201");
  auto mobile = space_of("mobilenet");
  std::shared_ptr<SearchSpace> ofa(make_space("ofa", {{"num_classes", 10}, {"resolutions", {32}}}));
  REQUIRE_THROWS_WITH_ALL(ConfigError, DifferentiableSearch(ofa, quick("darts")), "no mixed supernet",
                          "nb201, darts, mobilenet");
  REQUIRE_THROWS_WITH_ALL(ConfigError, DifferentiableSearch(mobile, quick("pcdarts")), "partial channel",
                          "use darts or partial_channels 1");
  auto darts = space_of("darts");
  REQUIRE_THROWS_WITH_ALL(ConfigError,
                          DifferentiableSearch(darts, quick("darts").hardware(oneshot::HardwareLossOptions()
                                                                                   .form("fbnet").target_ms(1)),
                                               mac_table(darts)),
                          "one mixed decision per arch choice", "nb201 or mobilenet");
  REQUIRE_THROWS_WITH_ALL(ConfigError, DifferentiableSearch(nb201, quick("darts").edge_normalization("on")),
                          "no nodes with competing inputs");
  REQUIRE_THROWS_WITH_ALL(ConfigError, DifferentiableSearch(nb201, quick("gdas").order(2)), "order 2",
                          "darts and pcdarts");
  REQUIRE_THROWS_WITH_ALL(ConfigError, DifferentiableOptions::from_json({{"name", "enas"}}), "enas", "darts",
                          "proxyless");
  auto hw = oneshot::HardwareLossOptions().form("proxyless").device("sim").target_ms(1e-6);
  REQUIRE_THROWS_WITH_ALL(ConfigError, DifferentiableSearch(nb201, quick("darts").hardware(hw), mac_table(nb201)),
                          "cannot be met", "fastest arch", "Raise target_ms");
  REQUIRE_THROWS_WITH_ALL(ConfigError, DifferentiableSearch(nb201, quick("darts").hardware(hw)), "needs a latency table");
  REQUIRE_THROWS_WITH_ALL(ConfigError, DifferentiableSearch(nb201, quick("darts").hardware(oneshot::HardwareLossOptions(hw).form("hinj"))),
                          "hardware: form is 'hinj'", "none, proxyless, hinge, fbnet");
  REQUIRE_THROWS_WITH_ALL(ConfigError, DifferentiableSearch(nb201, quick("darts").batch_size(0)), "batch_size",
                          "[1, 65536]", "is 0");
  CHECK(DifferentiableOptions::from_json(quick("fbnet").hardware(hw).to_json()).to_json() == quick("fbnet").hardware(hw).to_json());
  REQUIRE_THROWS_WITH_ALL(ConfigError, DifferentiableSearch(nb201, quick("darts")).run(tiny_data(20)),
                          "fewer than a batch");

  // A NaN loss stops the run, naming the epoch, the step and the last good checkpoint.
  const auto ckpt = test::temp_dir("oneshot_nan") + "/s.pt";
  DifferentiableSearch(nb201, quick("darts").epochs(1).checkpoint(ckpt)).run(tiny_data());
  DifferentiableSearch resumed(nb201, quick("darts").checkpoint(ckpt));
  resumed.load(ckpt);
  auto bad = tiny_data();
  bad.images.fill_(std::numeric_limits<float>::quiet_NaN());
  REQUIRE_THROWS_WITH_ALL(Error, resumed.run(bad), "diverged", "epoch 2 step 1", ckpt, "after epoch 1",
                          "Lower weight_lr");
  // A checkpoint of other options is refused and kept.
  DifferentiableSearch other(nb201, quick("gdas"));
  REQUIRE_THROWS_WITH_ALL(DataError, other.load(ckpt), "other options", "kept as it is");
  CHECK(std::filesystem::exists(ckpt));
}

TEST_CASE("experiments run differentiable strategies end to end", "[oneshot][experiment]") {
  const auto dir = test::temp_dir("oneshot_experiment");
  auto config = experiment::ExperimentConfig()
                    .space("nb201")
                    .space_config({{"channels", 8}, {"cells_per_stage", 1}})
                    .strategy("gdas")
                    .strategy_config({{"epochs", 2}, {"steps_per_epoch", 3}, {"batch_size", 16}})
                    .evaluator({{"name", "none"}, {"data", {{"name", "synthetic"}, {"train_size", 256}, {"valid_size", 64}}}})
                    .objectives({{"params", strategy::Direction::kMinimize}})
                    .output(dir + "/run");
  const auto base = config;
  auto result = experiment::Experiment(config).run();
  REQUIRE(result.best);
  CHECK(result.evaluations == 1);
  std::ifstream epochs(dir + "/run/epochs.jsonl");
  CHECK(std::count(std::istreambuf_iterator<char>(epochs), std::istreambuf_iterator<char>(), '\n') == 2);
  CHECK(std::filesystem::exists(dir + "/run/search.pt"));
  CHECK(std::filesystem::exists(dir + "/run/best.json"));
  // Resume of a finished run re-derives the same arch without training again.
  auto again = experiment::Experiment(config).run(experiment::RunOptions().resume(true));
  REQUIRE(again.best);
  CHECK(again.best->arch == result.best->arch);

  REQUIRE_THROWS_WITH_ALL(ConfigError,
                          experiment::Experiment(experiment::ExperimentConfig(base).evaluator({{"name", "none"}})),
                          "trains a supernet", "\"data\"");
  REQUIRE_THROWS_WITH_ALL(ConfigError,
                          experiment::Experiment(experiment::ExperimentConfig(base).strategy("darts").strategy_config(
                              {{"hardware", {{"form", "proxyless"}, {"target_ms", 1.0}, {"device", "phone"}}}})),
                          "device 'phone'", "latency_tables");
}

TEST_CASE("DARTS' mixed supernet: one-hot edges equal the genotype, derivation keeps the two strongest inputs",
          "[oneshot]") {
  auto space = space_of("darts");
  torch::manual_seed(0);
  auto net = std::dynamic_pointer_cast<nn::MixedSupernet>(space->supernet());
  REQUIRE(net);
  const auto decisions = net->decisions();
  REQUIRE(decisions.size() == 28);
  CHECK(decisions[5].name == "normal.n2<-0");
  CHECK(net->edge_groups().size() == 8);
  net->eval();
  Rng rng(2);
  const auto arch = space->sample(rng);
  // Every edge "none" except the genotype's pairs, which run their op with weight 1.
  std::vector<nn::MixedChoice> path(28, nn::MixedChoice{{0}, {}});
  const auto& g = arch.genes();
  for (int cell = 0; cell < 2; ++cell)
    for (int node = 0; node < 4; ++node) {
      std::vector<int> ops(static_cast<size_t>(node + 2), -1);
      for (int pair = 0; pair < 2; ++pair) {
        const size_t at = static_cast<size_t>(cell * 16 + node * 4 + pair * 2);
        const int e = cell * 14 + node * (node + 3) / 2 + g[at + 1];
        auto& active = path[static_cast<size_t>(e)].active;
        if (active == std::vector<int>{0}) active.clear();
        active.push_back(g[at]);
      }
    }
  auto x = torch::randn({2, 1, 16, 16});
  torch::NoGradGuard no_grad;
  CHECK((net->forward(x, arch) - net->forward_mixed(x, path)).abs().max().item<double>() < 1e-5);
  CHECK(net->forward_mixed(x, path, 2).sizes() == std::vector<int64_t>{2, 10});

  // Derivation: uniform everywhere except normal node 0, whose input 1 has sep_conv_3x3 at
  // 0.9 and input 0 max_pool_3x3 at 0.5; "none" never wins.
  std::vector<std::vector<double>> probs(28, std::vector<double>(8, 0.125));
  probs[1] = {0.95, 0, 0, 0, 0.9, 0, 0, 0};
  probs[0] = {0, 0.5, 0, 0, 0, 0, 0, 0};
  const std::vector<double> ones(28, 1.0);
  const auto derived = net->derive(probs, ones).str();
  CHECK(derived.find("normal=[('sep_conv_3x3', 1), ('max_pool_3x3', 0)") != std::string::npos);
  // An edge weight can reorder a node's inputs.
  auto weights = ones;
  weights[1] = 0.1;
  CHECK(net->derive(probs, weights).str().find("normal=[('max_pool_3x3', 0), ('sep_conv_3x3', 1)") != std::string::npos);
}
