#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/script.h>

#include "cli_util.h"
#include "hwnas/core/search_space.h"
#include "hwnas/estimate/factory.h"
#include "hwnas/nn/network.h"
#include "hwnas/nn/supernet.h"
#include "hwnas/search_spaces/registry.h"
#include "hwnas/train/final_training.h"
#include "test_util.h"

namespace fs = std::filesystem;
using hwnas::test::run_cli;

namespace {
const std::string kArch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|";
nlohmann::json load(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}
std::vector<std::string> train_args(const std::string& out) {
  return {"train", "--space", "nb201", "--arch", kArch, "--space-config", R"({"channels": 4, "cells_per_stage": 1})",
          "--train-size", "256", "--test-size", "128", "--epochs", "2", "--batch-size", "64", "--no-progress",
          "--out", out};
}
}  // namespace

TEST_CASE("hwnas train then hwnas export on Fashion-MNIST", "[cli][deploy]") {
  const auto dir = hwnas::test::temp_dir("deploy_cli");
  const auto run = dir + "/run";
  auto r = run_cli(train_args(run));
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("epoch 2: train loss") != std::string::npos);
  for (const char* f : {"arch.json", "weights.pt", "train.json", "checkpoint/checkpoint.pt"}) CHECK(fs::exists(run + "/" + f));
  const auto summary = load(run + "/train.json");
  CHECK(summary.at("arch") == kArch);
  CHECK(summary.at("data").at("train_size") == 256);
  CHECK(summary.at("recipe").at("label_smoothing") == 0.1);
  CHECK(summary.at("result").at("history").size() == 2);
  CHECK(summary.at("costs").at("params").get<int64_t>() > 0);

  // A second train into the same folder loses nothing; --resume of a finished run only reports.
  auto again = run_cli(train_args(run));
  CHECK(again.code == 2);
  CHECK(again.err.find("exists and is not empty") != std::string::npos);
  // --overwrite replaces the run: trained again from the start, the same seed gives the same model.
  auto args = train_args(run);
  args.push_back("--overwrite");
  auto over = run_cli(args);
  INFO(over.out << over.err);
  REQUIRE(over.code == 0);
  CHECK(over.out.find("epoch 1: train loss") != std::string::npos);
  CHECK(load(run + "/train.json").at("result").at("test_accuracy") == summary.at("result").at("test_accuracy"));

  auto e = run_cli({"export", "--run", run});
  INFO(e.out << e.err);
  REQUIRE(e.code == 0);
  const auto meta = load(run + "/export/model.json");
  CHECK(meta.at("arch") == kArch);
  CHECK(meta.at("files").at("onnx").at("opset") == 13);
  CHECK(meta.at("files").at("torchscript").at("max_abs_diff").get<double>() <= 1e-5);
  CHECK(meta.at("training").at("result").at("test_accuracy") == summary.at("result").at("test_accuracy"));
  CHECK(meta.at("costs").at("macs") == summary.at("costs").at("macs"));
  CHECK(fs::exists(run + "/export/model.onnx"));
  // The exported TorchScript runs on its own.
  auto module = torch::jit::load(run + "/export/model.pt");
  CHECK(module.forward({torch::randn({2, 1, 28, 28})}).toTensor().sizes() == std::vector<int64_t>{2, 10});

  auto only_onnx = run_cli({"export", "--run", run, "--format", "onnx", "--opset", "17", "--out", dir + "/onnx17"});
  CHECK(only_onnx.code == 0);
  CHECK(fs::exists(dir + "/onnx17/model.onnx"));
  CHECK_FALSE(fs::exists(dir + "/onnx17/model.pt"));
}

TEST_CASE("hwnas export and train say which step is missing", "[cli][deploy]") {
  const auto dir = hwnas::test::temp_dir("deploy_cli_bad");
  // A search run without a trained winner.
  fs::create_directories(dir + "/search");
  std::ofstream(dir + "/search/best.json") << R"({"arch": "x"})";
  auto r = run_cli({"export", "--run", dir + "/search"});
  CHECK(r.code == 2);
  CHECK(r.err.find("hwnas train --from-search") != std::string::npos);
  auto none = run_cli({"export", "--run", dir});
  CHECK(none.code == 2);
  CHECK(none.err.find("holds no trained model") != std::string::npos);
  // Training data missing: says how to get it.
  auto nodata = run_cli({"train", "--arch", kArch, "--data-dir", dir + "/nowhere", "--out", dir + "/t"});
  CHECK(nodata.code == 2);
  CHECK(nodata.err.find("apt-get install dataset-fashion-mnist") != std::string::npos);
  auto noarch = run_cli({"train", "--out", dir + "/t"});
  CHECK(noarch.code == 2);
  CHECK(noarch.err.find("--arch") != std::string::npos);
  // Train the best arch of a search run: its config must exist.
  auto nosearch = run_cli({"train", "--from-search", dir + "/search", "--out", dir + "/t"});
  CHECK(nosearch.code == 2);
  CHECK(nosearch.err.find("not a finished search run") != std::string::npos);
}

TEST_CASE("hwnas quickstart runs every step into one run directory, and reuses them", "[cli][quickstart]") {
  const auto dir = hwnas::test::temp_dir("quickstart") + "/run";
  // Budget 1.0, as the determinism tests use: with 2 evaluations at 0.5 both random archs
  // can miss the budget on a slow machine's table, and the search then has no winner.
  const std::vector<std::string> args{"quickstart", "--out", dir, "-n", "2", "--search-steps", "5", "--epochs", "1",
                                      "--train-size", "256", "--budget", "1.0", "--no-progress"};
  auto r = run_cli(args);
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  for (const char* f : {"cpu_table.json", "search.json", "search/best.json", "winner/weights.pt", "winner/train.json",
                        "winner/export/model.pt", "winner/export/model.onnx", "winner/export/model.json",
                        "baseline/train.json", "summary.txt", "summary.json"})
    CHECK(fs::exists(dir + "/" + f));
  const auto summary = load(dir + "/summary.json");
  REQUIRE(summary.at("models").size() == 2);
  for (const auto& m : summary.at("models")) {
    CHECK(m.at("latency_measured_ms").get<double>() > 0);
    CHECK(m.at("latency_predicted_ms").get<double>() > 0);
    CHECK(m.at("macs").get<int64_t>() > 0);
  }
  // The winner meets the budget by the table's prediction.
  CHECK(summary.at("models").at(0).at("latency_predicted_ms").get<double>() <= summary.at("budget_ms").get<double>());
  CHECK(load(dir + "/winner/export/model.json").at("costs").at("latency_ms").contains("cpu"));
  // A second run reuses the table, the search and the trainings.
  auto again = run_cli(args);
  INFO(again.out << again.err);
  REQUIRE(again.code == 0);
  CHECK(again.out.find("reusing") != std::string::npos);
  CHECK(again.out.find("resumed after epoch 1") != std::string::npos);
}

TEST_CASE("hwnas train --supernet starts from the trained supernet's weights of the arch", "[cli][deploy]") {
  const auto dir = hwnas::test::temp_dir("deploy_finetune");
  const std::string config = R"({"channels": 4, "cells_per_stage": 1})";
  auto s = run_cli({"train-supernet", "--space", "nb201", "--space-config", config, "--train-size", "256", "--options",
                    R"({"epochs": 1})", "--no-progress", "--out", dir + "/supernet.pt"});
  INFO(s.out << s.err);
  REQUIRE(s.code == 0);
  // One step at a negligible learning rate: the trained weights are the starting ones.
  auto r = run_cli({"train", "--space", "nb201", "--space-config", config, "--arch", kArch, "--supernet",
                    dir + "/supernet.pt", "--train-size", "64", "--test-size", "64", "--epochs", "1",
                    "--steps-per-epoch", "1", "--lr", "1e-8", "--no-progress", "--out", dir + "/run"});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(load(dir + "/run/train.json").at("fine_tuned_from") == dir + "/supernet.pt");
  const auto arch_file = load(dir + "/run/arch.json");
  auto space = hwnas::make_space("nb201", arch_file.at("space_config"));
  const auto arch = space->parse(kArch);
  auto trained = space->build(arch);
  hwnas::train::load_weights(*trained, dir + "/run/weights.pt");
  auto inherited = hwnas::estimate::load_supernet(*space, dir + "/supernet.pt")->extract(arch);
  auto scratch = space->build(arch);
  double from_supernet = 0, from_scratch = 0;
  auto a = trained->named_parameters(), b = inherited->named_parameters(), c = scratch->named_parameters();
  for (const auto& p : a) {
    from_supernet = std::max(from_supernet, (p.value() - b[p.key()]).abs().max().item<double>());
    from_scratch = std::max(from_scratch, (p.value() - c[p.key()]).abs().max().item<double>());
  }
  CHECK(from_supernet < 1e-5);
  CHECK(from_scratch > 1e-2);
  // A supernet of another configuration is refused, naming the file.
  auto bad = run_cli({"train", "--space", "nb201", "--arch", kArch, "--supernet", dir + "/supernet.pt", "--train-size",
                      "64", "--test-size", "64", "--epochs", "1", "--out", dir + "/bad"});
  CHECK(bad.code == 2);
  CHECK(bad.err.find("supernet.pt") != std::string::npos);
}

TEST_CASE("Every data command reads a registered dataset: CIFAR-10 binary through train, evaluate, train-supernet and search",
          "[cli][deploy][data]") {
  const auto data = hwnas::test::cifar10_folder("cli_cifar10", 16, 24);
  const auto d = hwnas::test::temp_dir("cli_cifar10_runs");
  const std::string space_config = R"({"channels": 4, "cells_per_stage": 1})";
  // train: the space follows the data (3x32x32, 10 classes), the summary names it.
  auto r = run_cli({"train", "--space", "nb201", "--arch", kArch, "--space-config", space_config, "--data", "cifar10",
                    "--data-dir", data, "--epochs", "1", "--batch-size", "16", "--no-progress", "--out", d + "/train"});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(load(d + "/train/arch.json")["input_shape"] == nlohmann::json({3, 32, 32}));
  const auto summary = load(d + "/train/train.json");
  CHECK(summary["data"]["name"] == "cifar10");
  CHECK(summary["data"]["train_size"] == 80);
  CHECK(summary["data"]["test_size"] == 24);
  CHECK(summary["data"]["skipped"] == 0);
  // The input contract: CIFAR-10's published statistics.
  CHECK(summary["data"]["input"]["normalize"]["mean"] == nlohmann::json({0.4914, 0.4822, 0.4465}));
  CHECK(summary["data"]["input"]["divisor"] == 255);
  // evaluate with proxies, and a dataset option that is refused with its name.
  r = run_cli({"evaluate", "--space", "nb201", "--space-config", space_config, "-e", "proxies", "--config",
               R"({"batch_size": 8})", "--data", "cifar10", "--data-dir", data, "--train-size", "60", "--valid-size",
               "20", "-n", "2", "--out", d + "/proxies.csv"});
  REQUIRE(r.code == 0);
  r = run_cli({"evaluate", "--space", "nb201", "-e", "proxies", "--data", "cifar10", "--data-dir", data,
               "--data-config", R"({"labels": "fine"})", "-n", "1", "--out", d + "/bad.csv"});
  CHECK(r.code == 2);
  CHECK(r.err.find("labels") != std::string::npos);
  CHECK_FALSE(fs::exists(d + "/bad.csv"));
  r = run_cli({"evaluate", "--space", "nb201", "-e", "proxies", "--data", "cifar10", "--data-dir", data, "--train-size",
               "70", "--valid-size", "20", "-n", "1", "--out", d + "/big.csv"});
  CHECK(r.code == 2);
  CHECK(r.err.find("has 80 training samples") != std::string::npos);
  // train-supernet and a search whose config names the dataset.
  r = run_cli({"train-supernet", "--space", "nb201", "--space-config", space_config, "--data", "cifar10", "--data-dir",
               data, "--train-size", "64", "--options", R"({"epochs": 1, "batch_size": 16})", "--no-progress", "--out",
               d + "/supernet.pt"});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  const nlohmann::json config = {
      {"space", {{"name", "nb201"}, {"config", nlohmann::json::parse(space_config)}}},
      {"evaluator", {{"name", "inherited"}, {"supernet", d + "/supernet.pt"},
                     {"data", {{"name", "cifar10"}, {"dir", data}, {"train_size", 60}, {"valid_size", 20}}}}},
      {"strategy", {{"name", "random"}}},
      {"objectives", {{{"metric", "val_accuracy"}, {"goal", "max"}}}},
      {"budget", {{"evaluations", 3}}},
      {"output", d + "/search"}};
  std::ofstream(d + "/search.json") << config.dump();
  r = run_cli({"search", "-c", d + "/search.json"});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(load(d + "/search/best.json")["metrics"].contains("val_accuracy"));
}
