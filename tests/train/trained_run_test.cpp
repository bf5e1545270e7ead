#include <filesystem>

#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "cli/cli_util.h"
#include "hwnas/core/error.h"
#include "hwnas/core/io.h"
#include "hwnas/train/final_training.h"
#include "hwnas/train/trained_run.h"
#include "test_util.h"

namespace fs = std::filesystem;

TEST_CASE("TrainedRun opens what hwnas train wrote, and says what a folder holds instead", "[train][run]") {
  const auto dir = hwnas::test::temp_dir("trained_run");
  const std::string arch = "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|skip_connect~0|none~1|avg_pool_3x3~2|";
  const auto r = hwnas::test::run_cli({"train", "--space", "nb201", "--space-config",
                                       R"({"channels": 4, "cells_per_stage": 1})", "--arch", arch, "--data",
                                       "synthetic", "--train-size", "64", "--test-size", "32", "--epochs", "1",
                                       "--batch-size", "32", "--no-progress", "--out", dir + "/run"});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  // A search folder holding the trained winner in RUN/train opens as that run.
  fs::create_directories(dir + "/search");
  hwnas::write_file_atomic(dir + "/search/best.json", "{}");
  fs::copy(dir + "/run", dir + "/search/train", fs::copy_options::recursive);
  for (const auto& path : {dir + "/run", dir + "/search"}) {
    const auto run = hwnas::train::TrainedRun::open(path);
    CHECK(run.space->name() == "nb201");
    CHECK(run.arch.str() == arch);
    CHECK(run.summary.at("arch") == arch);
    CHECK(run.summary.at("result").contains("test_accuracy"));
    const auto net = run.network();
    CHECK_FALSE(net->is_training());
    // The trained weights, not a fresh initialisation: the same as loading them by hand.
    auto by_hand = run.space->build(run.arch);
    hwnas::train::load_weights(*by_hand, dir + "/run/weights.pt");
    by_hand->eval();
    const auto in = run.space->input_shape_of(run.arch);
    const auto x = torch::randn({2, in.c, in.h, in.w});
    CHECK(torch::equal(net->forward(x), by_hand->forward(x)));
  }
  fs::remove(dir + "/search/train/weights.pt");
  REQUIRE_THROWS_WITH_ALL(hwnas::NotFoundError, hwnas::train::TrainedRun::open(dir + "/search"),
                          "search run without a trained model", "hwnas train --from-search");
  fs::create_directories(dir + "/unfinished/checkpoint");
  REQUIRE_THROWS_WITH_ALL(hwnas::NotFoundError, hwnas::train::TrainedRun::open(dir + "/unfinished"),
                          "unfinished training", "--resume");
  REQUIRE_THROWS_WITH_ALL(hwnas::NotFoundError, hwnas::train::TrainedRun::open(dir + "/none"), "No run directory");
  hwnas::write_file_atomic(dir + "/run/arch.json", R"({"space": 1})");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, hwnas::train::TrainedRun::open(dir + "/run"), "arch.json", "\"space\"");
}
