#include <catch2/catch.hpp>

#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "hwnas/cli/cli.h"
#include "hwnas/core/arch_table.h"
#include "hwnas/core/io.h"
#include "hwnas/core/search_space.h"
#include "hwnas/estimate/factory.h"
#include "hwnas/nn/supernet.h"
#include "hwnas/search_spaces/registry.h"
#include <torch/torch.h>
#include "cli/cli_util.h"
#include "test_util.h"

namespace {
hwnas::test::Run run(const std::vector<std::string>& args) { return hwnas::test::run_cli(args); }
bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
const std::string kTiny = R"({"channels": 4, "cells_per_stage": 1})";
}  // namespace

TEST_CASE("hwnas evaluate: short training writes a CSV, resumes, refuses to overwrite", "[cli][estimate]") {
  const auto dir = hwnas::test::temp_dir("cli_evaluate");
  const auto out = dir + "/gt.csv";
  const std::vector<std::string> base = {"evaluate", "--space", "nb201", "--space-config", kTiny, "--data", "synthetic",
                                         "--train-size", "64", "--valid-size", "32", "-c", R"({"steps": 2, "batch_size": 32})",
                                         "--seed", "3", "--out", out};
  auto args = base;
  args.insert(args.end(), {"-n", "2"});
  auto r = run(args);
  REQUIRE(r.code == 0);
  auto space = hwnas::make_space("nb201", {{"channels", 4}, {"cells_per_stage", 1}, {"input_size", 28}, {"input_channels", 1}});
  auto t = hwnas::read_arch_table(out, *space);
  REQUIRE(t.size() == 2);
  REQUIRE(t.columns == std::vector<std::string>{"val_accuracy", "val_loss", "train_loss", "train_seconds"});
  // Exists: refused without --resume/--overwrite; --resume with more archs keeps the first two.
  REQUIRE(run(args).code == 2);
  REQUIRE(has(run(args).err, "--resume"));
  args = base;
  args.insert(args.end(), {"-n", "3", "--resume"});
  r = run(args);
  REQUIRE(r.code == 0);
  REQUIRE(has(r.out, "2 already in"));
  auto t3 = hwnas::read_arch_table(out, *space);
  REQUIRE(t3.size() == 3);
  REQUIRE(t3.values[0] == t.values[0]);
  // A different recipe is refused on --resume.
  args = base;
  args[12] = R"({"steps": 3, "batch_size": 32})";
  args.insert(args.end(), {"-n", "3", "--resume"});
  r = run(args);
  REQUIRE(r.code == 2);
  REQUIRE(has(r.err, "different recipe"));
}

TEST_CASE("hwnas proxies, predictor fit/eval/predict and tabular evaluation work end to end", "[cli][estimate]") {
  const auto dir = hwnas::test::temp_dir("cli_predictor");
  auto r = run({"proxies", "--space", "nb201", "--space-config", kTiny, "--data", "synthetic", "--train-size", "32",
                "-c", R"({"batch_size": 16, "proxies": ["synflow", "snip", "params"]})", "-n", "3", "--out", dir + "/p.csv"});
  REQUIRE(r.code == 0);
  auto space = hwnas::make_space("nb201");
  REQUIRE(hwnas::read_arch_table(dir + "/p.csv", *space).columns == std::vector<std::string>{"synflow", "snip", "params"});

  // A table of 40 archs with a target that depends on the genes.
  hwnas::Rng rng(1);
  std::vector<hwnas::Arch> archs;
  std::vector<std::vector<double>> values;
  for (int i = 0; i < 40; ++i) {
    archs.push_back(space->sample(rng));
    double y = 0;
    for (int g : archs.back().genes()) y += g == 2 ? 1.0 : g == 3 ? 0.5 : 0.0;
    values.push_back({y});
  }
  hwnas::write_arch_table_csv(dir + "/data.csv", {"acc"}, archs, values);
  r = run({"predictor", "eval", "--data", dir + "/data.csv", "--target", "acc", "-p", "ridge", "--train-sizes", "10,30", "--seed", "2"});
  REQUIRE(r.code == 0);
  REQUIRE(has(r.out, "Kendall"));
  REQUIRE(has(r.out, "seed 2"));
  REQUIRE(has(r.out, "#params alone (nothing fitted) on the same 8 held-out rows: Kendall"));
  r = run({"predictor", "eval", "--data", dir + "/data.csv", "--target", "acc", "-p", "ridge", "-e", "path+cost", "--train-sizes", "30"});
  REQUIRE(r.code == 0);
  REQUIRE(has(r.out, "(encoding path+cost)"));
  r = run({"predictor", "fit", "--data", dir + "/data.csv", "--target", "acc", "-p", "ridge", "--encoding", "graph", "--out", dir + "/ridge_graph.json"});
  REQUIRE(r.code == 0);
  REQUIRE(has(hwnas::read_file(dir + "/ridge_graph.json", "t"), "\"kind\":\"graph\""));
  r = run({"predictor", "fit", "--data", dir + "/data.csv", "--target", "acc", "-p", "gp", "-c", R"({"iterations": 10})", "--out", dir + "/gp.json"});
  REQUIRE(r.code == 0);
  r = run({"predictor", "predict", "--model", dir + "/gp.json", "--arch", archs[0].str()});
  REQUIRE(r.code == 0);
  REQUIRE(has(r.out, "+-"));
  r = run({"predictor", "eval", "--data", dir + "/data.csv", "--target", "acc", "--model", dir + "/gp.json"});
  REQUIRE(r.code == 0);
  REQUIRE(has(r.out, "all 40 rows"));
  r = run({"evaluate", "-e", "predictor", "--predictor", dir + "/gp.json", "--archs", dir + "/data.csv", "--out", dir + "/pred.csv"});
  REQUIRE(r.code == 0);
  r = run({"evaluate", "-e", "tabular", "--table", dir + "/data.csv", "--archs", dir + "/data.csv", "--out", dir + "/tab.csv"});
  REQUIRE(r.code == 0);
  REQUIRE(hwnas::read_file(dir + "/tab.csv", "t") == hwnas::read_file(dir + "/data.csv", "t"));

  // Bad input: a missing column, a predictor of another space, a NaN target.
  r = run({"predictor", "fit", "--data", dir + "/data.csv", "--target", "accuracy", "--out", dir + "/x.json"});
  REQUIRE(r.code == 2);
  REQUIRE(has(r.err, "no column 'accuracy'"));
  r = run({"predictor", "predict", "--space", "darts", "--model", dir + "/gp.json", "-n", "1"});
  REQUIRE(r.code == 2);
  REQUIRE(has(r.err, "fitted on space 'nb201'"));
  hwnas::write_file_atomic(dir + "/nan.csv", "arch,acc\n" + archs[0].str() + ",1\n" + archs[1].str() + ",nan\n");
  r = run({"predictor", "fit", "--data", dir + "/nan.csv", "--target", "acc", "--out", dir + "/x.json"});
  REQUIRE(r.code == 2);
  REQUIRE(has(r.err, "line 3"));
  REQUIRE_FALSE(std::filesystem::exists(dir + "/x.json"));
}

TEST_CASE("hwnas evaluate with inherited weights loads a saved supernet", "[cli][estimate]") {
  const auto dir = hwnas::test::temp_dir("cli_inherited");
  auto space = hwnas::make_space("nb201", {{"channels", 4}, {"cells_per_stage", 1}, {"input_size", 28}, {"input_channels", 1}});
  torch::manual_seed(0);
  auto supernet = space->supernet();
  hwnas::estimate::save_supernet(*supernet, dir + "/supernet.pt");
  const std::vector<std::string> args = {"evaluate", "-e", "inherited", "--space", "nb201", "--space-config", kTiny,
                                         "--data", "synthetic", "--train-size", "64", "--valid-size", "32", "-c",
                                         R"({"bn_batches": 2, "batch_size": 32})", "-n", "2", "--out", dir + "/inh.csv"};
  auto with = args;
  with.insert(with.end(), {"--supernet", dir + "/supernet.pt"});
  auto r = run(with);
  REQUIRE(r.code == 0);
  REQUIRE(hwnas::read_arch_table(dir + "/inh.csv", *space).columns == std::vector<std::string>{"val_accuracy", "val_loss"});
  auto without = args;
  without.back() = dir + "/none.csv";
  r = run(without);
  REQUIRE(r.code == 2);
  REQUIRE(has(r.err, "--supernet FILE"));
  // Weights of another configuration are refused with the space named.
  auto wide = hwnas::make_space("nb201", {{"channels", 8}, {"cells_per_stage", 1}, {"input_size", 28}, {"input_channels", 1}});
  hwnas::estimate::save_supernet(*wide->supernet(), dir + "/wide.pt");
  with.back() = dir + "/wide.pt";
  with[with.size() - 3] = dir + "/inh2.csv";
  r = run(with);
  REQUIRE(r.code == 2);
  REQUIRE(has(r.err, "Cannot load supernet weights"));
}
