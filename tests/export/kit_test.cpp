// Profiling kits: every layer of every built-in space as standalone TorchScript and ONNX
// models with a manifest, for devices hwnas does not run on.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include <torch/script.h>
#include <torch/torch.h>

#include "cli/cli_util.h"
#include "export/export_util.h"
#include "hwnas/core/io.h"
#include "hwnas/core/json.h"
#include "hwnas/cost/layer_kind.h"
#include "hwnas/export/kit.h"
#include "hwnas/search_spaces/registry.h"
#include "test_util.h"

namespace fs = std::filesystem;
using hwnas::exporting::KitOptions;
using hwnas::exporting::write_profiling_kit;

TEST_CASE("A profiling kit holds every buildable layer of every built-in space, loadable outside hwnas", "[export][kit]") {
  const auto root = hwnas::test::temp_dir("kits");
  std::set<std::string> kinds;
  for (const auto& [name, config] : hwnas::test::export_spaces()) {
    INFO(name);
    auto space = hwnas::make_space(name, config);
    const auto dir = root + "/" + name;
    const auto report = write_profiling_kit(*space, KitOptions().dir(dir).archs(2).seed(3));
    const auto manifest = hwnas::read_json_file(dir + "/manifest.json", "manifest");
    CHECK(manifest.at("format") == "hwnas-profiling-kit");
    CHECK(manifest.at("space") == name);
    CHECK(manifest.at("space_config") == space->config());
    CHECK(manifest.at("fingerprint") == report.fingerprint);
    // Every layer of the universe is in the kit unless its kind builds no module.
    std::map<std::string, hwnas::LayerSpec> universe;
    for (const auto& l : space->layer_universe())
      if (hwnas::cost::layer_kind(l).build) universe.emplace(l.key(), l);
    REQUIRE(manifest.at("layers").size() == universe.size());
    REQUIRE(report.layers == static_cast<int64_t>(universe.size()));
    torch::NoGradGuard no_grad;
    for (const auto& e : manifest.at("layers")) {
      const auto& l = universe.at(e.at("key").get<std::string>());
      kinds.insert(l.kind);
      INFO(e.at("key"));
      CHECK(e.at("input") == nlohmann::json({1, l.input.c, l.input.h, l.input.w}));
      CHECK(fs::exists(dir + "/" + e.at("onnx").get<std::string>()));
      // Plain LibTorch runs the TorchScript file to the layer's output shape.
      auto m = torch::jit::load(dir + "/" + e.at("torchscript").get<std::string>());
      const auto y = m.forward({torch::randn({1, l.input.c, l.input.h, l.input.w})}).toTensor();
      if (l.kind == "linear") CHECK(y.numel() == l.output.numel());
      else CHECK(y.sizes() == torch::IntArrayRef({1, l.output.c, l.output.h, l.output.w}));
    }
    REQUIRE(manifest.at("networks").size() == 2);
    for (const auto& e : manifest.at("networks")) {
      const auto arch = space->parse(e.at("arch").get<std::string>());
      auto m = torch::jit::load(dir + "/" + e.at("torchscript").get<std::string>());
      const auto s = space->input_shape_of(arch);
      CHECK(m.forward({torch::randn({1, s.c, s.h, s.w})}).toTensor().size(1) == 10);
    }
    // models.tsv lists the same models for runners without a JSON parser.
    CHECK(hwnas::test::lines_in(dir + "/models.tsv") == 2 + universe.size() + 2);
    // The identity model a runner times for its per-call overhead.
    auto identity = torch::jit::load(dir + "/" + manifest.at("overhead").at("torchscript").get<std::string>());
    const auto& in = manifest.at("overhead").at("input");
    const auto x = torch::randn({in[0].get<int64_t>(), in[1].get<int64_t>(), in[2].get<int64_t>(), in[3].get<int64_t>()});
    CHECK(torch::equal(identity.forward({x}).toTensor(), x));
    CHECK(hwnas::read_file(dir + "/models.tsv", "tsv").rfind("# hwnas-profiling-kit 1 " + report.fingerprint, 0) == 0);
  }
  // The kinds of all four spaces: every built-in kind with a module.
  for (const char* kind : {"conv_bn", "relu_conv_bn", "conv_bn_act", "linear", "avg_pool", "global_avg_pool", "add",
                           "mbconv", "nb201_resblock", "sep_conv", "dil_conv", "factorized_reduce"})
    CHECK(kinds.count(kind) == 1);
}

TEST_CASE("A kit is the same from the same seed, and an existing kit is kept", "[export][kit]") {
  const auto root = hwnas::test::temp_dir("kit_same");
  auto space = hwnas::make_space("nb201", {{"channels", 4}, {"cells_per_stage", 1}});
  const auto a = write_profiling_kit(*space, KitOptions().dir(root + "/a").archs(3).seed(5));
  const auto b = write_profiling_kit(*space, KitOptions().dir(root + "/b").archs(3).seed(5));
  CHECK(a.fingerprint == b.fingerprint);
  CHECK(hwnas::read_file(root + "/a/manifest.json", "a") == hwnas::read_file(root + "/b/manifest.json", "b"));
  CHECK(hwnas::read_file(root + "/a/models.tsv", "a") == hwnas::read_file(root + "/b/models.tsv", "b"));
  const auto c = write_profiling_kit(*space, KitOptions().dir(root + "/c").archs(3).seed(6));
  CHECK(c.fingerprint != a.fingerprint);
  // No overwrite: refused, the old kit untouched; with overwrite: replaced whole.
  const auto before = hwnas::read_file(root + "/a/manifest.json", "a");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, write_profiling_kit(*space, KitOptions().dir(root + "/a").archs(1)),
                          root + "/a", "overwrite");
  CHECK(hwnas::read_file(root + "/a/manifest.json", "a") == before);
  write_profiling_kit(*space, KitOptions().dir(root + "/a").archs(1).overwrite(true));
  CHECK(hwnas::read_json_file(root + "/a/manifest.json", "a").at("networks").size() == 1);
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, write_profiling_kit(*space, KitOptions().dir(root + "/d").opset(12)),
                          "opset", "12");
  CHECK_FALSE(fs::exists(root + "/d"));
}

TEST_CASE("hwnas profile --kit writes a kit, and refuses --out with --kit", "[cli][export][kit]") {
  const auto root = hwnas::test::temp_dir("kit_cli");
  auto r = hwnas::test::run_cli({"profile", "--space", "nb201", "--space-config", R"({"channels": 4, "cells_per_stage": 1})",
                                 "--kit", root + "/kit", "--archs", "2", "--repetitions", "20"});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("profiling kit of space nb201") != std::string::npos);
  const auto manifest = hwnas::read_json_file(root + "/kit/manifest.json", "manifest");
  CHECK(manifest.at("protocol").at("repetitions") == 20);
  CHECK(manifest.at("protocol").at("warmup") == 10);
  r = hwnas::test::run_cli({"profile", "--space", "nb201", "--kit", root + "/kit"});
  CHECK(r.code == 2);
  CHECK(r.err.find("--overwrite") != std::string::npos);
  r = hwnas::test::run_cli({"profile", "--space", "nb201", "--kit", root + "/k2", "--out", root + "/t.json"});
  CHECK(r.code == 2);
  CHECK(r.err.find("not both") != std::string::npos);
  r = hwnas::test::run_cli({"profile", "--space", "nb201", "--kit", root + "/k3", "--resume"});
  CHECK(r.code == 2);
  CHECK(r.err.find("--resume") != std::string::npos);
  CHECK_FALSE(fs::exists(root + "/k2"));
  CHECK_FALSE(fs::exists(root + "/k3"));
  // Archs of one's own (a search's winner) as whole networks, first, then distinct random ones.
  const std::string winner = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|";
  r = hwnas::test::run_cli({"profile", "--space", "nb201", "--space-config", R"({"channels": 4, "cells_per_stage": 1})",
                            "--kit", root + "/k4", "--archs", "2", "--network", winner});
  REQUIRE(r.code == 0);
  const auto nets = hwnas::read_json_file(root + "/k4/manifest.json", "manifest").at("networks");
  REQUIRE(nets.size() == 3);
  CHECK(nets[0].at("arch") == winner);
  CHECK(nets[1].at("arch") != winner);
  CHECK(nets[2].at("arch") != winner);
  r = hwnas::test::run_cli({"profile", "--space", "nb201", "--kit", root + "/k5", "--network", "|conv~0|"});
  CHECK(r.code == 2);
  CHECK(r.err.find("'|conv~0|'") != std::string::npos);
  r = hwnas::test::run_cli({"profile", "--space", "nb201", "--kit", root + "/k6", "--network", winner, "--network", winner});
  CHECK(r.code == 2);
  CHECK(r.err.find("given twice") != std::string::npos);
  r = hwnas::test::run_cli({"profile", "--space", "nb201", "--out", root + "/t7.json", "--network", winner});
  CHECK(r.code == 2);
  CHECK(r.err.find("--network is for --kit") != std::string::npos);
  for (const char* d : {"/k5", "/k6", "/t7.json"}) CHECK_FALSE(fs::exists(root + d));
}

TEST_CASE("The ONNX Runtime runner times every model of a kit, resumes, and refuses another kit's results",
          "[export][kit][onnxruntime]") {
  const auto root = hwnas::test::temp_dir("kit_ort");
  auto space = hwnas::make_space("nb201", {{"channels", 4}, {"cells_per_stage", 1}});
  const auto kit = write_profiling_kit(
      *space, KitOptions().dir(root + "/kit").archs(2).protocol(hwnas::exporting::KitProtocol().warmup(1).repetitions(3)));
  const auto runner = hwnas::test::source_dir() + "/runners/onnxruntime";
  INFO("ONNX Runtime missing: run scripts/install-deps.sh --with-clients (npm ci --ignore-scripts in " << runner << ")");
  REQUIRE(fs::exists(runner + "/node_modules/onnxruntime-node/package.json"));
  const auto run = [&](const std::string& results, const std::string& extra) {
    return hwnas::test::run_command("node " + runner + "/run-kit.mjs " + root + "/kit " + results + " --threads 1" + extra +
                                    " 2>&1; echo exit=$?");
  };
  const auto results = root + "/ort.jsonl";
  auto out = run(results, "");
  INFO(out);
  REQUIRE(out.find("exit=0") != std::string::npos);
  const auto models = 1 + kit.layers + kit.networks;
  auto lines = hwnas::test::lines_in(results);
  REQUIRE(lines == static_cast<size_t>(1 + models));
  std::ifstream in(results);
  std::string line;
  std::getline(in, line);
  const auto header = nlohmann::json::parse(line);
  CHECK(header.at("kit") == kit.fingerprint);
  CHECK(header.at("runtime") == "onnxruntime");
  CHECK(header.at("protocol").at("repetitions") == 3);
  std::set<std::string> ids;
  while (std::getline(in, line)) {
    const auto r = nlohmann::json::parse(line);
    ids.insert(r.at("id").get<std::string>());
    CHECK(r.at("median_ms").get<double>() > 0);
    CHECK(r.at("count") == 3);
  }
  CHECK(ids.size() == static_cast<size_t>(models));
  CHECK(ids.count("OVERHEAD") == 1);
  // An existing file needs --resume; an interrupted one (last line cut) is completed.
  CHECK(run(results, "").find("exit=2") != std::string::npos);
  {
    auto text = hwnas::read_file(results, "results");
    text = text.substr(0, text.rfind('\n', text.size() - 2) + 1) + "{\"id\": \"N00";  // the last model cut short
    hwnas::write_file_atomic(results, text);
  }
  out = run(results, " --resume");
  CHECK(out.find("\"measured\":1") != std::string::npos);
  CHECK(hwnas::test::lines_in(results) == static_cast<size_t>(1 + models));
  // Results of another kit are refused.
  write_profiling_kit(*space, KitOptions().dir(root + "/kit").archs(1).overwrite(true));
  out = run(results, " --resume");
  CHECK(out.find("exit=2") != std::string::npos);
  CHECK(out.find("measured on kit " + kit.fingerprint) != std::string::npos);
}
