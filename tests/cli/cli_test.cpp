#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>

#include <nlohmann/json.hpp>

#include "hwnas/cli/cli.h"
#include "hwnas/core/io.h"
#include "hwnas/core/json.h"
#include "hwnas/core/random.h"
#include "hwnas/core/search_space.h"
#include "hwnas/cost/analytic.h"
#include "hwnas/search_spaces/registry.h"
#include "cli/cli_util.h"
#include "test_util.h"

namespace {
hwnas::test::Run run(const std::vector<std::string>& args) { return hwnas::test::run_cli(args); }
const std::string kArch =
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|";
}  // namespace

TEST_CASE("hwnas spaces lists the registered spaces", "[cli]") {
  auto r = run({"spaces"});
  REQUIRE(r.code == 0);
  for (const char* name : {"nb201", "darts", "mobilenet", "ofa", "15625"}) REQUIRE(r.out.find(name) != std::string::npos);
  auto j = nlohmann::json::parse(run({"spaces", "--json"}).out);
  REQUIRE(j.size() == 4);
  REQUIRE(j[3]["name"] == "ofa");
  REQUIRE(j[2]["name"] == "nb201");
  REQUIRE(j[2]["size"] == 15625);
}

TEST_CASE("hwnas draw writes an arch as Graphviz DOT or JSON, and keeps an existing file", "[cli]") {
  auto r = run({"draw", "--space", "nb201", "--arch", kArch});
  REQUIRE(r.code == 0);
  CHECK(r.out.rfind("digraph arch {", 0) == 0);
  CHECK(r.out.find("[label=\"nor_conv_3x3\"]") != std::string::npos);
  const auto d = hwnas::test::temp_dir("cli_draw");
  r = run({"draw", "--space", "darts", "--arch", hwnas::make_space("darts")->sample(*std::make_unique<hwnas::Rng>(1)).str(),
           "--format", "json", "-o", d + "/cells.json"});
  REQUIRE(r.code == 0);
  CHECK(hwnas::read_json_file(d + "/cells.json", "drawing")["graphs"].size() == 2);
  r = run({"draw", "--space", "nb201", "--arch", kArch, "-o", d + "/cells.json"});
  CHECK(r.code == 2);
  CHECK(r.err.find("--overwrite") != std::string::npos);
  CHECK(hwnas::read_json_file(d + "/cells.json", "drawing")["graphs"].size() == 2);
}

TEST_CASE("hwnas strategies, predictors, encodings, datasets, evaluators, cost-models, exporters and layer-kinds list their registries", "[cli]") {
  auto r = run({"strategies"});
  REQUIRE(r.code == 0);
  for (const char* name : {"random", "evolution", "nsga2", "linas", "rl", "REINFORCE", "darts", "one-shot", "ask-tell"})
    CHECK(r.out.find(name) != std::string::npos);
  auto j = nlohmann::json::parse(run({"strategies", "--json"}).out);
  std::vector<std::string> names, kinds;
  for (const auto& e : j) {
    names.push_back(e.at("name").get<std::string>());
    kinds.push_back(e.at("kind").get<std::string>());
  }
  CHECK(names == std::vector<std::string>{"evolution", "linas", "nsga2", "random", "rl", "darts", "fbnet", "gdas",
                                          "pcdarts", "proxyless"});
  CHECK(kinds == std::vector<std::string>{"ask-tell", "ask-tell", "ask-tell", "ask-tell", "ask-tell", "one-shot", "one-shot",
                                          "one-shot", "one-shot", "one-shot"});
  CHECK_FALSE(j[0].at("description").get<std::string>().empty());
  r = run({"predictors", "--json"});
  REQUIRE(r.code == 0);
  names.clear();
  for (const auto& e : nlohmann::json::parse(r.out)) names.push_back(e.at("name").get<std::string>());
  for (const char* name : {"mlp", "ridge", "xgboost"})
    CHECK(std::find(names.begin(), names.end(), name) != names.end());
  r = run({"encodings", "--json"});
  REQUIRE(r.code == 0);
  names.clear();
  for (const auto& e : nlohmann::json::parse(r.out)) names.push_back(e.at("name").get<std::string>());
  CHECK(names == std::vector<std::string>{"cost", "graph", "onehot", "path", "stages"});
  // Layer kinds: the generic ones from cost and those the built-in spaces register.
  r = run({"layer-kinds", "--json"});
  REQUIRE(r.code == 0);
  names.clear();
  for (const auto& e : nlohmann::json::parse(r.out)) names.push_back(e.at("name").get<std::string>());
  for (const char* name : {"conv_bn", "linear", "mbconv", "nb201_resblock", "sep_conv", "darts_aux_head"})
    CHECK(std::find(names.begin(), names.end(), name) != names.end());
  CHECK(run({"layer-kinds"}).out.find("Inverted residual") != std::string::npos);
  r = run({"cost-models", "--json"});
  REQUIRE(r.code == 0);
  names.clear();
  for (const auto& e : nlohmann::json::parse(r.out)) names.push_back(e.at("name").get<std::string>());
  CHECK(names == std::vector<std::string>{"analytic", "latency", "learned"});
  r = run({"evaluators", "--json"});
  REQUIRE(r.code == 0);
  names.clear();
  for (const auto& e : nlohmann::json::parse(r.out)) names.push_back(e.at("name").get<std::string>());
  CHECK(names == std::vector<std::string>{"inherited", "none", "predictor", "proxies", "short_training", "tabular"});
  r = run({"datasets", "--json"});
  REQUIRE(r.code == 0);
  names.clear();
  for (const auto& e : nlohmann::json::parse(r.out)) names.push_back(e.at("name").get<std::string>());
  for (const char* name : {"cifar10", "cifar100", "fashion-mnist", "mnist", "synthetic"})
    CHECK(std::find(names.begin(), names.end(), name) != names.end());
  r = run({"exporters", "--json"});
  REQUIRE(r.code == 0);
  names.clear();
  for (const auto& e : nlohmann::json::parse(r.out)) names.push_back(e.at("name").get<std::string>());
  CHECK(names == std::vector<std::string>{"onnx", "torchscript"});
}

TEST_CASE("hwnas sample is seeded", "[cli]") {
  auto a = run({"sample", "--space", "nb201", "-n", "5", "--seed", "1"});
  auto b = run({"sample", "--space", "nb201", "-n", "5", "--seed", "1"});
  auto c = run({"sample", "--space", "nb201", "-n", "5", "--seed", "2"});
  REQUIRE(a.code == 0);
  REQUIRE(a.out == b.out);
  REQUIRE(a.out != c.out);
  auto lines = run({"sample", "-n", "3", "--json"}).out;
  std::istringstream in(lines);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    REQUIRE(j["space"] == "nb201");
    REQUIRE(j["params"].get<int64_t>() > 0);
    ++n;
  }
  REQUIRE(n == 3);
}

TEST_CASE("hwnas info prints params, MACs and layers", "[cli]") {
  auto r = run({"info", "--space", "nb201", "--arch", kArch});
  REQUIRE(r.code == 0);
  REQUIRE(r.out.find("1,531,546") != std::string::npos);
  REQUIRE(r.out.find("220,119,680") != std::string::npos);
  auto j = nlohmann::json::parse(run({"info", "--arch", kArch, "--json"}).out);
  REQUIRE(j["params"] == 1531546);
  REQUIRE(j["layers"].size() == 126);
  REQUIRE(j["layers"][0]["key"] == "conv_bn-in:3x32x32-out:16x32x32-k:3-s:1");
  auto cfg = nlohmann::json::parse(
      run({"info", "--arch", kArch, "--json", "--space-config", R"({"num_classes": 100})"}).out);
  REQUIRE(cfg["params"] == 1537396);
  auto small = nlohmann::json::parse(run({"info", "--arch", kArch, "--json", "--input", "3x16x16"}).out);
  REQUIRE(small["macs"].get<int64_t>() < j["macs"].get<int64_t>());
}

TEST_CASE("hwnas reports bad input in one line with exit status 2", "[cli]") {
  struct Case {
    std::vector<std::string> args;
    std::string fragment;
  };
  const Case cases[] = {
      {{"sample", "--space", "nope"}, "Unknown search space 'nope'; valid names: darts, mobilenet, nb201, ofa"},
      {{"info", "--arch", "|bogus~0|"}, "unknown op 'bogus'"},
      {{"info"}, "--arch is required"},
      {{"info", "--arch", kArch, "--input", "3x30x30"}, "multiples of 4"},
      {{"info", "--arch", kArch, "--input", "abc"}, "CxHxW"},
      {{"sample", "--space-config", "{bad json"}, "--space-config is not valid JSON"},
      {{"sample", "--space-config", R"({"chanels": 8})"}, "Unknown key 'chanels'"},
      {{"sample", "--space-config", "@/no/such.json"}, "/no/such.json"},
      {{"sample", "-n", "0"}, "-n"},
      {{"frobnicate"}, "unknown command 'frobnicate'; valid commands: spaces, sample, info, draw, strategies, predictors, encodings, datasets, evaluators, cost-models, exporters, layer-kinds, profile, measure, latency, table, calibrate, evaluate, proxies, predictor, search, train-supernet, train, export, quickstart, demo"},
      {{"profile", "--space", "nb201", "--out", "/tmp/x.json", "--device", "cuda"}, "--device cpu"},
      {{"latency", "--space", "nb201", "-t", "/no/table.json", "-a", kArch}, "/no/table.json"},
      {{}, "subcommand"},
      {{"demo", "--data-dir", "/no/such/dir", "-n", "1"}, "apt-get install dataset-fashion-mnist"},
  };
  for (const auto& c : cases) {
    auto r = run(c.args);
    INFO("args: " << nlohmann::json(c.args).dump() << "\nstderr: " << r.err);
    REQUIRE(r.code == 2);
    REQUIRE(r.err.find(c.fragment) != std::string::npos);
    REQUIRE(r.err.rfind("hwnas: error: ", 0) == 0);
  }
}

TEST_CASE("hwnas info works for every built-in space", "[cli]") {
  hwnas::Rng rng(0);
  for (const auto& name : hwnas::space_registry().names()) {
    auto arch = hwnas::make_space(name)->sample(rng);
    auto r = run({"info", "--space", name, "--arch", arch.str(), "--json"});
    INFO(name << ": " << r.err);
    REQUIRE(r.code == 0);
    auto j = nlohmann::json::parse(r.out);
    REQUIRE(j["params"].get<int64_t>() > 0);
    REQUIRE(j["arch"] == arch.str());
    // At the arch's own input (ofa: its resolution), as every cost model sees it.
    const auto space = hwnas::make_space(name);
    const auto own = space->parse(arch.str());
    REQUIRE(j["input"] == space->input_shape_of(own).str());
    REQUIRE(j["macs"].get<int64_t>() == hwnas::cost::network_cost(space->layers(own)).macs);
  }
}

TEST_CASE("hwnas profile, latency, measure and calibrate work end to end", "[cli]") {
  const std::string dir = hwnas::test::temp_dir("cli_cost");
  const std::string cfg = R"({"channels": 4, "cells_per_stage": 1, "input_size": 16})";
  const std::string fast[] = {"--runs", "2", "--warmup", "1", "--min-time", "0"};
  std::vector<std::string> profile{"profile", "--space", "nb201", "--space-config", cfg, "--out", dir + "/t.json"};
  profile.insert(profile.end(), std::begin(fast), std::end(fast));
  auto p = run(profile);
  INFO(p.err);
  REQUIRE(p.code == 0);
  REQUIRE(p.out.find("21 of 21 layers") != std::string::npos);
  auto again = run(profile);
  REQUIRE(again.code == 2);
  REQUIRE(again.err.find("--resume") != std::string::npos);
  auto lat = run({"latency", "--space", "nb201", "--space-config", cfg, "-t", dir + "/t.json", "-a", kArch});
  REQUIRE(lat.code == 0);
  REQUIRE(lat.out.rfind("latency@cpu ", 0) == 0);
  std::vector<std::string> measure{"measure", "--space", "nb201", "--space-config", cfg, "-a", kArch};
  measure.insert(measure.end(), std::begin(fast), std::end(fast));
  REQUIRE(run(measure).out.find("mean ") == 0);
  std::vector<std::string> cal{"calibrate", "--space", "nb201", "--space-config", cfg, "-t", dir + "/t.json", "-n", "8",
                               "--fit", "--save", dir + "/cal.json", "--json", dir + "/report.json"};
  cal.insert(cal.end(), std::begin(fast), std::end(fast));
  auto c = run(cal);
  INFO(c.err);
  REQUIRE(c.code == 0);
  REQUIRE(c.out.find("held-out, after calibration (4 archs)") != std::string::npos);
  auto report = nlohmann::json::parse(hwnas::read_file(dir + "/report.json", "report"));
  REQUIRE(report["uncalibrated"]["n"] == 8);
  REQUIRE(run({"latency", "--space", "nb201", "--space-config", cfg, "-t", dir + "/cal.json", "-a", kArch}).code == 0);
  auto bad = run({"latency", "--space", "darts", "-t", dir + "/t.json", "-a", "x"});
  REQUIRE(bad.code == 2);
  auto ofa = run({"table", "import-ofa", "--dir", hwnas::test::data_dir() + "/ofa/note10_lut", "-o", dir + "/ofa.json"});
  REQUIRE(ofa.code == 0);
  REQUIRE(ofa.out.find("17 resolution sections") != std::string::npos);
}

TEST_CASE("hwnas --help and --version succeed", "[cli]") {
  auto v = run({"--version"});
  REQUIRE(v.code == 0);
  REQUIRE(v.out.find("hwnas 0.") != std::string::npos);
  auto h = run({"--help"});
  REQUIRE(h.code == 0);
  REQUIRE(h.out.find("sample") != std::string::npos);
  auto sh = run({"info", "--help"});
  REQUIRE(sh.code == 0);
  REQUIRE(sh.out.find("--arch") != std::string::npos);
}

TEST_CASE("hwnas demo runs end to end on synthetic data", "[cli]") {
  auto r = run({"demo", "--synthetic", "-n", "2", "--steps", "3", "--eval", "32", "--seed", "4"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  REQUIRE(r.out.find("Sampled architectures (seed 4)") != std::string::npos);
  REQUIRE(r.out.find("test acc") != std::string::npos);
}
