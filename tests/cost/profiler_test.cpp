#include <catch2/catch.hpp>

#include <filesystem>

#include "hwnas/core/io.h"
#include "hwnas/cost/calibration.h"
#include "hwnas/cost/profiler.h"
#include "hwnas/search_spaces/registry.h"
#include "test_util.h"

using hwnas::cost::ProfileOptions;
using hwnas::cost::TimingOptions;

namespace {
const TimingOptions kFast = TimingOptions().warmup(1).min_runs(2).max_runs(3).min_seconds(0);
const nlohmann::json kTinyNb201 = {{"channels", 4}, {"cells_per_stage", 1}, {"input_size", 16}};
}  // namespace

TEST_CASE("time_runs keeps a count, drops slow outliers", "[cost][profiler]") {
  int calls = 0;
  auto t = hwnas::cost::time_runs([&] { ++calls; }, TimingOptions().warmup(2).min_runs(20).max_runs(20).min_seconds(0));
  REQUIRE(calls == 22);
  REQUIRE(t.count + t.outliers == 20);
  REQUIRE(t.mean_ms >= 0);
  // One run 50 ms slower than the others is an outlier.
  int i = 0;
  auto slow = hwnas::cost::time_runs(
      [&] {
        auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(++i == 10 ? 50000 : 200);
        while (std::chrono::steady_clock::now() < until) {
        }
      },
      TimingOptions().warmup(0).min_runs(20).max_runs(20).min_seconds(0));
  REQUIRE(slow.outliers >= 1);
  REQUIRE(slow.mean_ms < 5);
  REQUIRE_THROWS_AS(hwnas::cost::time_runs([] {}, TimingOptions().min_runs(0)), hwnas::ConfigError);
}

TEST_CASE("Every layer of every built-in space can be profiled", "[cost][profiler]") {
  const std::vector<std::pair<const char*, nlohmann::json>> cases = {
      {"nb201", kTinyNb201},
      {"darts", {{"channels", 4}, {"layers", 3}, {"input_size", 16}}},
      {"mobilenet", {{"preset", "fbnet"}, {"input_size", 32}, {"num_classes", 10}}},
      {"mobilenet", {{"preset", "proxyless"}, {"input_size", 32}, {"num_classes", 10}}},
      {"ofa", {{"num_classes", 10}, {"resolutions", {32}}}},
  };
  for (const auto& [name, config] : cases) {
    auto space = hwnas::make_space(name, config);
    auto universe = space->layer_universe();
    INFO(name << ": " << universe.size() << " layers");
    REQUIRE(universe.size() > 5);
    for (const auto& layer : universe) {
      INFO(layer.key());
      REQUIRE_NOTHROW(hwnas::cost::layer_runner(layer, 1)());
    }
    // The universe covers the layers of sampled archs.
    std::set<std::string> keys;
    for (const auto& l : universe) keys.insert(l.key());
    hwnas::Rng rng(1);
    for (int i = 0; i < 20; ++i)
      for (const auto& l : space->layers(space->sample(rng))) REQUIRE(keys.count(l.key()) == 1);
  }
}

TEST_CASE("Profiling writes a complete table and resumes after an interruption", "[cost][profiler]") {
  auto space = hwnas::make_space("nb201", kTinyNb201);
  const auto path = hwnas::test::temp_dir("profile") + "/cpu.json";
  auto opts = ProfileOptions().timing(kFast).out(path).device_name("testcpu");
  // "Interrupted" after 5 layers: the file holds them and is a valid table.
  auto partial = hwnas::cost::profile_space(*space, ProfileOptions(opts).max_new_entries(5));
  REQUIRE(partial.size() == 5);
  REQUIRE(hwnas::cost::LatencyTable::load(path).size() == 5);
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, hwnas::cost::profile_space(*space, opts), "exists", "--resume");
  auto full = hwnas::cost::profile_space(*space, ProfileOptions(opts).resume(true));
  REQUIRE(full.size() == space->layer_universe().size());
  for (const auto& [key, entry] : partial.sections.at("")) REQUIRE(full.find("", key)->mean_ms == entry.mean_ms);
  auto loaded = hwnas::cost::LatencyTable::load(path);
  REQUIRE(loaded.size() == full.size());
  REQUIRE(loaded.device.name == "testcpu");
  REQUIRE(loaded.device.threads == 1);
  // The table predicts every arch of the space.
  auto shared = std::shared_ptr<hwnas::SearchSpace>(hwnas::make_space("nb201", kTinyNb201));
  hwnas::cost::LatencyModel model(std::make_shared<hwnas::cost::LatencyTable>(loaded), shared);
  for (const auto& arch : shared->enumerate()) REQUIRE(model.predict(arch) > 0);
  // Resuming with another configuration is refused.
  auto other = hwnas::make_space("nb201", {{"channels", 8}, {"cells_per_stage", 1}, {"input_size", 16}});
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, hwnas::cost::profile_space(*other, ProfileOptions(opts).resume(true)),
                          "Cannot resume", "\"channels\":4");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, hwnas::cost::profile_space(*space, ProfileOptions(opts).device("cuda")),
                          "cuda", "--device cpu");
}

TEST_CASE("Calibration recovers a known correction and reports agreement", "[cost][calibration]") {
  auto space = std::shared_ptr<hwnas::SearchSpace>(hwnas::make_space("nb201", kTinyNb201));
  auto table = std::make_shared<hwnas::cost::LatencyTable>(hwnas::cost::profile_space(*space, ProfileOptions().timing(kFast)));
  hwnas::cost::LatencyModel raw(table, space);
  // A device where conv layers take twice the table's time and every network 0.5 ms more.
  std::vector<hwnas::cost::Measurement> ms;
  hwnas::Rng rng(3);
  for (int i = 0; i < 40; ++i) {
    auto arch = space->sample(rng);
    auto parts = raw.by_kind(arch);
    double t = 0.5;
    for (const auto& [kind, v] : parts) t += (kind == "relu_conv_bn" ? 2.0 : 1.0) * v;
    ms.push_back({arch, t});
  }
  auto before = hwnas::cost::evaluate_table(raw, ms);
  REQUIRE(before.mape > 1);
  hwnas::cost::fit_calibration(*table, space, ms);
  REQUIRE(table->calibrated);
  // The fitted terms are not unique (a per-kind scale trades off against the per-layer
  // cost when a kind's entries are alike, the offset against layers every arch has), so
  // the predictions are what is checked.
  REQUIRE(table->calibration_scale.count("relu_conv_bn") == 1);
  auto after = hwnas::cost::evaluate_table(hwnas::cost::LatencyModel(table, space), ms);
  REQUIRE(after.mape < 1);
  REQUIRE(after.within5 == 1.0);
  REQUIRE(after.kendall_tau > 0.95);
  REQUIRE(after.worst.size() == 5);
}

TEST_CASE("Measurements from elsewhere are read from CSV with clear errors", "[cost][calibration]") {
  auto space = hwnas::make_space("nb201");
  const auto dir = hwnas::test::temp_dir("csv");
  const std::string a = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|";
  const std::string b = "|nor_conv_1x1~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|";
  hwnas::write_file_atomic(dir + "/ok.csv", "arch,latency_ms,device\n" + a + ",1.5,pixel\n\"" + b + "\",2.5,pixel\n");
  auto ms = hwnas::cost::read_measurements_csv(dir + "/ok.csv", *space);
  REQUIRE(ms.size() == 2);
  REQUIRE(ms[1].ms == 2.5);
  hwnas::write_file_atomic(dir + "/bad.csv", "arch,latency_ms\n" + a + ",fast\n");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, hwnas::cost::read_measurements_csv(dir + "/bad.csv", *space), "line 2", "'fast' is not a number");
  hwnas::write_file_atomic(dir + "/arch.csv", "arch,latency_ms\n|x~0|,1\n");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, hwnas::cost::read_measurements_csv(dir + "/arch.csv", *space), "line 2", "unknown op 'x'");
  hwnas::write_file_atomic(dir + "/hdr.csv", "name,ms\n");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, hwnas::cost::read_measurements_csv(dir + "/hdr.csv", *space), "hdr.csv", "needs an 'arch' column");
  hwnas::write_file_atomic(dir + "/neg.csv", "arch,latency_ms\n" + a + ",-1\n");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, hwnas::cost::read_measurements_csv(dir + "/neg.csv", *space), "positive");
}
