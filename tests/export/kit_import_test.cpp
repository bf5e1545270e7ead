// Importing a measured profiling kit: the manifest read back, results files checked line
// by line, the latency table and its calibration, the CLI, and both runners end to end.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "export/export_util.h"
#include "hwnas/core/io.h"
#include "hwnas/core/json.h"
#include "hwnas/cost/latency_table.h"
#include "hwnas/export/kit.h"
#include "hwnas/export/kit_import.h"
#include "hwnas/search_spaces/registry.h"
#include "test_util.h"

namespace hwnas::test {
const std::string& probe_exe();
}

namespace fs = std::filesystem;
using hwnas::exporting::import_kit;
using hwnas::exporting::KitImportOptions;
using hwnas::exporting::KitOptions;
using hwnas::exporting::KitResults;
using hwnas::exporting::ProfilingKit;
using hwnas::exporting::write_profiling_kit;

namespace {

const nlohmann::json kTiny = {{"channels", 4}, {"cells_per_stage", 1}};

std::string header(const std::string& fingerprint, const nlohmann::json& extra = nlohmann::json::object()) {
  nlohmann::json h = {{"format", "hwnas-kit-results"}, {"version", 1}, {"kit", fingerprint}, {"runtime", "fake"},
                      {"runtime_version", "1.0"}, {"device", "a test device"}, {"threads", 1},
                      {"protocol", {{"warmup", 1}, {"repetitions", 3}, {"statistic", "median"}, {"unit", "ms"}}}};
  h.update(extra);
  return h.dump() + "\n";
}

std::string line(const std::string& id, double median) {
  return nlohmann::json{{"id", id}, {"median_ms", median}, {"mean_ms", median}, {"std_ms", 0.0}, {"count", 3}}.dump() + "\n";
}

// A device whose layers add up: each layer a time of its own (2 us and more), a network
// the overhead once plus 1.25 x its layers plus 0.3 ms.
struct FakeDevice {
  static constexpr double kOverhead = 0.05;
  std::map<std::string, double> layer_ms;  // without the overhead
  std::string results;
};

FakeDevice fake_device(const ProfilingKit& kit, const hwnas::SearchSpace& space) {
  FakeDevice d;
  d.results = header(kit.fingerprint) + line(kit.overhead.id, FakeDevice::kOverhead);
  for (const auto& l : space.layer_universe())
    d.layer_ms[l.key()] = 0.002 + 1e-6 * static_cast<double>(l.input.numel() * static_cast<int64_t>(1 + l.key().size() % 7));
  for (const auto& l : kit.layers) d.results += line(l.id, FakeDevice::kOverhead + d.layer_ms.at(l.key));
  std::set<std::string> in_kit;  // identity and zero layers are not: they cost nothing
  for (const auto& l : kit.layers) in_kit.insert(l.key);
  for (const auto& n : kit.networks) {
    double sum = 0;
    for (const auto& l : space.layers(space.parse(n.arch)))
      if (in_kit.count(l.key())) sum += d.layer_ms.at(l.key());
    d.results += line(n.id, FakeDevice::kOverhead + 1.25 * sum + 0.3);
  }
  return d;
}

}  // namespace

TEST_CASE("A kit's manifest reads back whole, and an edited one is refused", "[export][kit]") {
  const auto root = hwnas::test::temp_dir("kit_read");
  auto space = hwnas::make_space("nb201", kTiny);
  const auto report = write_profiling_kit(*space, KitOptions().dir(root + "/kit").archs(4).seed(2));
  const auto kit = ProfilingKit::load(root + "/kit");
  CHECK(kit.fingerprint == report.fingerprint);
  CHECK(kit.space == "nb201");
  CHECK(kit.space_config == space->config());
  CHECK(kit.layers.size() == static_cast<size_t>(report.layers));
  CHECK(kit.networks.size() == 4);
  CHECK(kit.overhead.id == "OVERHEAD");
  CHECK(kit.warmup == 10);
  CHECK(kit.repetitions == 50);
  for (const auto& n : kit.networks) CHECK_NOTHROW(space->parse(n.arch));
  for (const auto& l : kit.layers) {
    CHECK(fs::exists(root + "/kit/" + l.onnx));
    CHECK(l.input.size() == 4);
  }
  // One changed number: the fingerprint no longer matches.
  auto manifest = hwnas::read_file(root + "/kit/manifest.json", "manifest");
  manifest.replace(manifest.find("\"repetitions\": 50"), 17, "\"repetitions\": 5 ");
  hwnas::write_file_atomic(root + "/kit/manifest.json", manifest);
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, ProfilingKit::load(root + "/kit"), "manifest.json", "changed after it was written",
                          "write the kit again");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, ProfilingKit::load(root + "/none"), root + "/none", "not a folder");
}

TEST_CASE("A kit results file is checked line by line", "[export][kit]") {
  const auto root = hwnas::test::temp_dir("kit_results");
  auto space = hwnas::make_space("nb201", kTiny);
  write_profiling_kit(*space, KitOptions().dir(root + "/kit").archs(3));
  const auto kit = ProfilingKit::load(root + "/kit");
  const auto good = fake_device(kit, *space).results;
  const auto parsed = KitResults::parse(good, "r.jsonl");
  CHECK(parsed.runtime == "fake");
  CHECK(parsed.timings.size() == kit.models().size());
  CHECK_NOTHROW(parsed.check_covers(kit));

  const auto fp = kit.fingerprint;
  const auto bad = [&](const std::string& text) { return KitResults::parse(text, "r.jsonl"); };
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, bad(""), "r.jsonl is empty");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, bad("{\"id\": \"L0001\"}\n"), "r.jsonl line 1", "not a kit results header");
  // fuzz_tables: a "format" that is no string was a JSON type error, not a DataError.
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, bad("{\"format\": 0}\n"), "r.jsonl line 1", "not a kit results header");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, ProfilingKit::from_json({{"format", 0}}, "m.json"), "m.json",
                          "not an hwnas profiling kit manifest");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, bad(header(fp, {{"version", 2}})), "line 1", "version 2", "upgrade hwnas");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, bad(header(fp, {{"threads", 0}})), "line 1", "\"threads\" is 0");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, bad(header(fp, {{"protocol", {{"unit", "us"}}}})), "unit is 'us'",
                          "convert the times");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, bad(header(fp, {{"protocol", {{"statistic", "mean"}}}})), "statistic is 'mean'");
  const auto body = [&](const std::string& rest) { return header(fp) + line("OVERHEAD", 0.05) + rest; };
  // missing keys, NaN, negative and infinite values, wrong units
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, bad(body("{\"id\": \"L0001\", \"mean_ms\": 1, \"std_ms\": 0, \"count\": 3}\n")),
                          "r.jsonl line 3", "no \"median_ms\"");
  REQUIRE_THROWS_WITH_ALL(hwnas::ParseError, bad(body("{\"id\": \"L0001\", \"median_ms\": NaN}\n")), "r.jsonl line 3");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, bad(body(line("L0001", -0.5))), "line 3", "\"median_ms\" is -0.5", "negative");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError,
                          bad(body("{\"id\": \"L0001\", \"median_us\": 40, \"mean_us\": 41, \"std_us\": 1, \"count\": 3}\n")),
                          "line 3", "\"mean_us\" is not in milliseconds");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError,
                          bad(body("{\"id\": \"L0001\", \"median_ms\": 1, \"mean_ms\": \"1\", \"std_ms\": 0, \"count\": 3}\n")),
                          "\"mean_ms\" must be a finite number of milliseconds");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError,
                          bad(body("{\"id\": \"L0001\", \"median_ms\": 1, \"mean_ms\": 1, \"std_ms\": 0, \"count\": 2.5}\n")),
                          "\"count\"", "must be an integer");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, bad(body(line("L0001", 1) + line("L0001", 2))), "line 4",
                          "'L0001' was measured already on line 3");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, bad(body("{\"id\": \"L00")), "line 3 is cut off", "--resume");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, bad(body("[1, 2]\n")), "line 3 must be a JSON object");
  // another kit, a model the kit does not have, models missing (listed)
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, KitResults::parse(header("0123456789abcdef"), "r.jsonl").check_covers(kit),
                          "measured on kit 0123456789abcdef", kit.fingerprint);
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, bad(body(line("L9999", 1))).check_covers(kit), "line 3", "'L9999' is not a model");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, bad(body(line("L0001", 1))).check_covers(kit),
                          fmt::format("lacks {} of the {} models", kit.models().size() - 2, kit.models().size()),
                          "L0002 (" + kit.layers[1].key + ")", "more", "--resume");
}

TEST_CASE("An imported kit is a latency table whose calibration predicts the held-out networks", "[export][kit]") {
  const auto root = hwnas::test::temp_dir("kit_import");
  std::shared_ptr<const hwnas::SearchSpace> space(hwnas::make_space("nb201", kTiny));
  write_profiling_kit(*space, KitOptions().dir(root + "/kit").archs(24).seed(4));
  const auto kit = ProfilingKit::load(root + "/kit");
  const auto device = fake_device(kit, *space);
  const auto imported = import_kit(kit, KitResults::parse(device.results, root + "/fake.jsonl"),
                                   KitImportOptions().device_name("fakedev"));
  const auto& t = imported.table;
  CHECK(t.device.name == "fakedev");
  CHECK(t.device.framework == "fake");
  CHECK(t.device.description == "a test device");
  CHECK(t.space == "nb201");
  CHECK(t.overhead_ms == Approx(FakeDevice::kOverhead));
  REQUIRE(t.size() == kit.layers.size());
  // Each entry is the layer's median less the overhead.
  for (const auto& l : kit.layers) CHECK(t.find("", l.key)->mean_ms == Approx(device.layer_ms.at(l.key)).epsilon(1e-9));
  CHECK(imported.fitted_on == 12);
  CHECK(imported.held_out == 12);
  REQUIRE(t.calibrated);
  // The uncalibrated sums miss the 1.25 x and the 0.3 ms; the correction recovers them on
  // networks it was not fitted on.
  CHECK(imported.uncalibrated.within10 < 0.5);
  CHECK(imported.corrected.mape < 1.0);
  CHECK(imported.corrected.within5 == 1.0);
  CHECK(imported.corrected.kendall_tau > 0.9);
  // Saved and read back: the report and the kit it came from are in the table.
  t.save(root + "/t.json");
  const auto back = hwnas::cost::LatencyTable::load(root + "/t.json");
  CHECK(back.source.at("kit") == kit.fingerprint);
  CHECK(back.calibration_report.at("held_out") == 12);
  CHECK(back.calibration_report.at("calibrated").at("mape").get<double>() == Approx(imported.corrected.mape));
  hwnas::cost::LatencyModel model(std::make_shared<const hwnas::cost::LatencyTable>(back), space);
  CHECK(model.name() == "latency@fakedev");
  const auto last = space->parse(kit.networks.back().arch);
  const double truth = hwnas::exporting::KitResults::parse(device.results, "r").timings.at(kit.networks.back().id).median_ms;
  CHECK(model.predict(last) == Approx(truth).epsilon(0.02));
  // Too few networks to hold out: named.
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError,
                          import_kit(kit, KitResults::parse(device.results, "r"), KitImportOptions().holdout(22)),
                          "holding out 22", "--holdout");
}

TEST_CASE("hwnas table import-kit writes a table and the calibration report, and keeps an existing table",
          "[cli][export][kit]") {
  const auto root = hwnas::test::temp_dir("kit_import_cli");
  auto space = hwnas::make_space("nb201", kTiny);
  write_profiling_kit(*space, KitOptions().dir(root + "/kit").archs(8));
  const auto kit = ProfilingKit::load(root + "/kit");
  hwnas::write_file_atomic(root + "/r.jsonl", fake_device(kit, *space).results);
  auto r = hwnas::test::run_cli({"table", "import-kit", "--kit", root + "/kit", "--results", root + "/r.jsonl", "-o", root + "/t.json"});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("per-call overhead 0.0500 ms") != std::string::npos);
  CHECK(r.out.find("calibration fitted on 4 whole networks; on 4 held-out networks") != std::string::npos);
  CHECK(r.out.find("latency@fake written to") != std::string::npos);
  const auto table = hwnas::read_json_file(root + "/t.json", "table");
  CHECK(table.at("calibration").at("report").at("held_out") == 4);
  // The table prices an arch.
  r = hwnas::test::run_cli({"latency", "--space-config", kTiny.dump(), "-t", root + "/t.json", "--arch", kit.networks[0].arch});
  CHECK(r.code == 0);
  CHECK(r.out.find("latency@fake") != std::string::npos);
  // An existing table is kept; results with a model missing are refused, naming it.
  const auto before = hwnas::read_file(root + "/t.json", "t");
  r = hwnas::test::run_cli({"table", "import-kit", "--kit", root + "/kit", "--results", root + "/r.jsonl", "-o", root + "/t.json"});
  CHECK(r.code == 2);
  CHECK(r.err.find("--overwrite") != std::string::npos);
  std::istringstream all(hwnas::read_file(root + "/r.jsonl", "r"));
  std::string text;
  for (std::string l; std::getline(all, l);)
    if (l.find("\"id\":\"L0002\"") == std::string::npos) text += l + "\n";
  hwnas::write_file_atomic(root + "/short.jsonl", text);
  r = hwnas::test::run_cli({"table", "import-kit", "--kit", root + "/kit", "--results", root + "/short.jsonl", "-o", root + "/t2.json"});
  CHECK(r.code == 2);
  CHECK(r.err.find("L0002 (" + kit.layers[1].key + ")") != std::string::npos);
  CHECK_FALSE(fs::exists(root + "/t2.json"));
  CHECK(hwnas::read_file(root + "/t.json", "t") == before);
}

TEST_CASE("Learned latency models from a kit and from a CSV alone are saved with where they came from and constrain a "
          "search", "[cli][export][kit][learned]") {
  const auto root = hwnas::test::temp_dir("kit_learned_cli");
  auto space = hwnas::make_space("nb201", kTiny);
  write_profiling_kit(*space, KitOptions().dir(root + "/kit").archs(12));
  const auto kit = ProfilingKit::load(root + "/kit");
  const auto device = fake_device(kit, *space);
  hwnas::write_file_atomic(root + "/r.jsonl", device.results);
  // On top of the imported table: the ratio learned on the fitted networks, reported on the held-out ones.
  auto r = hwnas::test::run_cli({"table", "import-kit", "--kit", root + "/kit", "--results", root + "/r.jsonl", "-o",
                                 root + "/t.json", "--learned", "ridge", "--save-learned", root + "/kit-learned.json"});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("held-out, learned (ridge x table) (6 archs)") != std::string::npos);
  CHECK(r.out.find("learned latency model latency@fake-learned") != std::string::npos);
  const auto from_kit = hwnas::read_json_file(root + "/kit-learned.json", "model");
  CHECK(from_kit.at("format") == "hwnas-learned-latency");
  CHECK(from_kit.at("device") == "fake-learned");
  CHECK(from_kit.at("source").at("kit") == kit.fingerprint);
  CHECK(from_kit.at("source").at("archs") == 6);
  CHECK(from_kit.at("table").at("file") == root + "/t.json");
  CHECK(from_kit.at("table").at("source").at("kit") == kit.fingerprint);
  CHECK(from_kit.at("source").at("held_out").at("n") == 6);

  // Whole networks alone (a CSV from a device hwnas never sees) make a model without a table.
  const auto results = KitResults::parse(device.results, "r");
  std::string csv = "arch,latency_ms\n";
  std::vector<double> measured;
  for (const auto& n : kit.networks) {
    measured.push_back(results.timings.at(n.id).median_ms);
    csv += fmt::format("{},{}\n", n.arch, measured.back());
  }
  hwnas::write_file_atomic(root + "/phone.csv", csv);
  r = hwnas::test::run_cli({"calibrate", "--space-config", kTiny.dump(), "--measurements", root + "/phone.csv", "--learned",
                            "ridge", "--learned-device", "phone", "--save-learned", root + "/phone.json"});
  REQUIRE(r.code == 0);
  CHECK(r.out.find("held-out, learned (ridge, no table)") != std::string::npos);
  const auto from_csv = hwnas::read_json_file(root + "/phone.json", "model");
  CHECK(from_csv.at("table").is_null());
  CHECK(from_csv.at("source").at("measurements") == root + "/phone.csv");
  CHECK(from_csv.at("device") == "phone");
  // Neither a table nor --learned: named.
  r = hwnas::test::run_cli({"calibrate", "--space-config", kTiny.dump(), "--measurements", root + "/phone.csv"});
  CHECK(r.code == 2);
  CHECK(r.err.find("give --table") != std::string::npos);

  // Both constrain a search: the metric latency@<device> named by the files themselves.
  const double limit = *std::max_element(measured.begin(), measured.end());
  hwnas::write_file_atomic(root + "/exp.json", nlohmann::json({
      {"space", {{"name", "nb201"}, {"config", kTiny}}}, {"strategy", {{"name", "random"}}},
      {"evaluator", {{"name", "none"}}},
      {"cost_models", {{{"name", "analytic"}}, {{"name", "learned"}, {"model", "phone.json"}},
                       {{"name", "learned"}, {"model", "kit-learned.json"}, {"table", "t.json"}}}},
      {"objectives", {{{"metric", "macs"}, {"goal", "max"}}}},
      {"constraints", {fmt::format("latency@phone <= {} ms", limit), fmt::format("latency@fake-learned <= {} ms", limit)}},
      {"budget", {{"evaluations", 20}}}, {"output", "run"}}).dump());
  r = hwnas::test::run_cli({"search", "-c", root + "/exp.json", "--no-progress"});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  const auto best = hwnas::read_json_file(root + "/run/best.json", "best");
  INFO(best.dump());
  CHECK(best.at("metrics").at("latency@phone").get<double>() <= limit);
  CHECK(best.at("metrics").at("latency@fake-learned").get<double>() <= limit);
}

TEST_CASE("Both runners measure a kit that imports into a table, every layer kind timed", "[export][kit][onnxruntime]") {
  const auto root = hwnas::test::temp_dir("kit_runners");
  // The layer kinds of two spaces: nb201's and the mobile chain's (mbconv, conv_bn_act, ...).
  for (const auto& [name, config] :
       {std::pair{std::string("nb201"), kTiny},
        std::pair{std::string("mobilenet"), nlohmann::json{{"preset", "proxyless"}, {"input_size", 32}, {"num_classes", 10}}}}) {
    INFO(name);
    auto space = hwnas::make_space(name, config);
    const auto dir = root + "/" + name;
    write_profiling_kit(*space, KitOptions().dir(dir).archs(6).protocol(hwnas::exporting::KitProtocol().warmup(2).repetitions(3)));
    const auto kit = ProfilingKit::load(dir);
    const auto ort = hwnas::test::source_dir() + "/runners/onnxruntime/run-kit.mjs";
    REQUIRE(!hwnas::test::probe_exe().empty());
    hwnas::test::run_command("node " + ort + " " + dir + " " + dir + "-ort.jsonl");
    hwnas::test::run_command(hwnas::test::probe_exe() + " " + dir + " " + dir + "-jit.jsonl");
    for (const auto* runtime : {"onnxruntime", "libtorch-jit"}) {
      INFO(runtime);
      const auto results = KitResults::load(dir + (std::string(runtime) == "onnxruntime" ? "-ort.jsonl" : "-jit.jsonl"));
      CHECK(results.runtime == runtime);
      const auto imported = import_kit(kit, results, KitImportOptions().holdout(3));
      CHECK(imported.table.size() == kit.layers.size());
      CHECK(imported.calibrated);
      // Every layer was timed: a positive raw median each.
      for (const auto& l : kit.layers) CHECK(results.timings.at(l.id).median_ms > 0);
    }
    // The probe's header records what it fixed.
    const auto jit = KitResults::load(dir + "-jit.jsonl");
    CHECK(jit.protocol.at("executor") == "profiling");
    CHECK(jit.protocol.at("frozen") == true);
    CHECK(jit.kit == kit.fingerprint);
  }
}

TEST_CASE("hwnas-probe resumes an interrupted run and refuses another kit's or other settings' results", "[export][kit]") {
  REQUIRE(!hwnas::test::probe_exe().empty());
  const auto root = hwnas::test::temp_dir("kit_probe");
  auto space = hwnas::make_space("nb201", kTiny);
  write_profiling_kit(*space, KitOptions().dir(root + "/kit").archs(2).protocol(hwnas::exporting::KitProtocol().warmup(1).repetitions(2)));
  const auto probe = hwnas::test::probe_exe() + " " + root + "/kit " + root + "/r.jsonl";
  hwnas::test::run_command(probe);
  const auto models = ProfilingKit::load(root + "/kit").models().size();
  REQUIRE(hwnas::test::lines_in(root + "/r.jsonl") == 1 + models);
  auto status = [](const std::string& cmd) { return hwnas::test::run_command(cmd + "; echo exit=$?"); };
  CHECK(status(probe + " 2>&1").find("exit=2") != std::string::npos);  // exists: needs --resume
  auto text = hwnas::read_file(root + "/r.jsonl", "r");
  hwnas::write_file_atomic(root + "/r.jsonl", text.substr(0, text.rfind('\n', text.size() - 2) + 1) + "{\"id\":\"N00");
  CHECK(status(probe + " --resume").find("\"measured\":1") != std::string::npos);
  CHECK(KitResults::load(root + "/r.jsonl").timings.size() == models);
  const auto other = status(probe + " --resume --threads 2 2>&1");
  CHECK(other.find("exit=2") != std::string::npos);
  CHECK(other.find("other settings") != std::string::npos);
  const auto bad = status(hwnas::test::probe_exe() + " " + root + "/nokit " + root + "/x.jsonl 2>&1");
  CHECK(bad.find("hwnas-probe: " + root + "/nokit/models.tsv cannot be read") != std::string::npos);
  CHECK(bad.find("exit=2") != std::string::npos);
}
