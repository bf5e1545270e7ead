#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "hwnas/core/io.h"
#include "hwnas/cost/cost_model.h"
#include "hwnas/cost/latency_table.h"
#include "hwnas/search_spaces/ofa/ofa.h"
#include "hwnas/search_spaces/registry.h"
#include "test_util.h"

using hwnas::cost::Fallback;
using hwnas::cost::LatencyEntry;
using hwnas::cost::LatencyModel;
using hwnas::cost::LatencyOptions;
using hwnas::cost::LatencyTable;

namespace {
const std::string kOfaDir = hwnas::test::data_dir() + "/ofa/note10_lut";

nlohmann::json tutorial_subnet() {
  return {{"ks", {5, 3, 3, 3, 5, 3, 3, 3, 7, 7, 3, 3, 5, 5, 7, 3, 3, 3, 5, 3}},
          {"e", {3, 3, 3, 3, 4, 4, 3, 3, 6, 3, 4, 3, 4, 4, 4, 3, 6, 6, 6, 3}},
          {"d", {2, 2, 3, 4, 3}},
          {"r", {192}}};
}

std::shared_ptr<LatencyTable> small_table() {
  auto t = std::make_shared<LatencyTable>();
  t->device.name = "test";
  t->space = "nb201";
  auto space = hwnas::make_space("nb201");
  hwnas::Rng rng(0);
  for (const auto& arch : space->enumerate())
    for (const auto& l : space->layers(arch)) t->set("", l.key(), LatencyEntry{0.001 * static_cast<double>(l.input.numel()) / 1000, 0.0, 1, {{"energy_mj", 2.0}}});
  return t;
}
}  // namespace

TEST_CASE("OFA's Note10 tables import and give the tutorial's 24.73 ms", "[cost][latency_table]") {
  auto table = std::make_shared<LatencyTable>(LatencyTable::from_ofa_yaml(kOfaDir, "note10"));
  REQUIRE(table->sections.size() == 17);  // resolutions 160..224 step 4
  REQUIRE(table->key_format == "ofa");
  auto space = std::make_shared<hwnas::spaces::OfaSpace>(hwnas::spaces::OfaOptions().width_mult(1.2));
  LatencyModel model(table, space);
  REQUIRE(model.name() == "latency@note10");
  REQUIRE(model.predict(space->from_json(tutorial_subnet())) == Approx(24.73).margin(0.005));
  // A resolution the tables do not have.
  auto j = tutorial_subnet();
  j["r"] = {128};
  REQUIRE_THROWS_WITH_ALL(hwnas::NotFoundError, model.predict(space->from_json(j)), "no section for resolution 128");
}

TEST_CASE("Latency tables round-trip through their JSON file", "[cost][latency_table]") {
  auto table = LatencyTable::from_ofa_yaml(kOfaDir, "note10");
  table.calibrated = true;
  table.calibration_offset_ms = 0.5;
  table.calibration_scale = {{"mbconv", 1.1}};
  const auto path = hwnas::test::temp_dir("lut") + "/note10.json";
  table.save(path);
  auto back = LatencyTable::load(path);
  REQUIRE(back.size() == table.size());
  REQUIRE(back.device.name == "note10");
  REQUIRE(back.calibration_scale.at("mbconv") == 1.1);
  const auto* e = back.find("192", "Conv-input:192x192x3-output:96x96x24");
  REQUIRE(e != nullptr);
  REQUIRE(e->mean_ms == Approx(0.7238637274549099));
  REQUIRE(e->count == 499);
}

TEST_CASE("Latency model sums entries, applies calibration, and handles missing keys", "[cost][latency_table]") {
  auto table = small_table();
  auto space = std::shared_ptr<hwnas::SearchSpace>(hwnas::make_space("nb201"));
  auto arch = space->parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|");
  LatencyModel model(table, space);
  double expected = 0;
  for (const auto& l : space->layers(arch)) expected += table->find("", l.key())->mean_ms;
  REQUIRE(model.predict(arch) == Approx(expected));
  LatencyModel energy(table, space, LatencyOptions().metric("energy_mj"));
  REQUIRE(energy.predict(arch) == Approx(2.0 * static_cast<double>(space->layers(arch).size())));
  REQUIRE(energy.name() == "energy_mj@test");

  auto calibrated = std::make_shared<LatencyTable>(*table);
  calibrated->calibrated = true;
  calibrated->calibration_offset_ms = 1.0;
  calibrated->calibration_scale = {{"relu_conv_bn", 2.0}};
  const auto parts = LatencyModel(table, space).by_kind(arch);
  REQUIRE(LatencyModel(calibrated, space).predict(arch) == Approx(expected + 1.0 + parts.at("relu_conv_bn")));
  REQUIRE(LatencyModel(calibrated, space, LatencyOptions().use_calibration(false)).predict(arch) == Approx(expected));
  // A correction fitted for latency does not apply to energy.
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, LatencyModel(calibrated, space, LatencyOptions().metric("energy_mj")).predict(arch),
                          "calibrated for metric 'mean_ms', not 'energy_mj'", "use_calibration(false)");

  // A different input size: keys missing.
  auto other = std::shared_ptr<hwnas::SearchSpace>(hwnas::make_space("nb201", {{"input_size", 64}}));
  auto arch64 = other->parse(arch.str());
  auto open = std::make_shared<LatencyTable>(*table);
  open->space = "";
  REQUIRE_THROWS_WITH_ALL(hwnas::NotFoundError, LatencyModel(open, other).predict(arch64), "no entry for layer",
                          "conv_bn-in:3x64x64", "hwnas profile");
  // Nearest fallback: same kind and attributes, scaled by MACs.
  const double nearest = LatencyModel(open, other, LatencyOptions().fallback(Fallback::kNearest)).predict(arch64);
  REQUIRE(nearest > model.predict(arch) * 2);
  REQUIRE(nearest < model.predict(arch) * 8);
}

TEST_CASE("Bad latency tables are refused naming file, entry and problem", "[cost][latency_table]") {
  const auto dir = hwnas::test::temp_dir("bad_lut");
  auto write = [&](const std::string& name, const std::string& text) {
    hwnas::write_file_atomic(dir + "/" + name, text);
    return dir + "/" + name;
  };
  const std::string good = R"({"format": "hwnas-latency-table", "version": 1, "sections": {"": {"k": {"mean_ms": 1, "std_ms": 0, "count": 3}}}})";
  REQUIRE(LatencyTable::load(write("ok.json", good)).size() == 1);
  REQUIRE_THROWS_WITH_ALL(hwnas::ParseError, LatencyTable::load(write("trunc.json", good.substr(0, 40))), "trunc.json",
                          "not valid JSON");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, LatencyTable::load(write("v9.json", R"({"format": "hwnas-latency-table", "version": 9, "sections": {}})")),
                          "format version 9", "upgrade hwnas");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, LatencyTable::load(write("other.json", R"({"format": "x"})")),
                          "not an hwnas latency table");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError,
                          LatencyTable::load(write("neg.json", R"({"format": "hwnas-latency-table", "version": 1, "sections": {"": {"conv-x": {"mean_ms": -1, "std_ms": 0, "count": 3}}}})")),
                          "neg.json", "entry 'conv-x'", "mean must be a finite number >= 0");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError,
                          LatencyTable::load(write("nan.json", R"({"format": "hwnas-latency-table", "version": 1, "sections": {"": {"k": {"mean_ms": "NaN", "std_ms": 0, "count": 3}}}})")),
                          "entry 'k'", "mean_ms");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError,
                          LatencyTable::load(write("miss.json", R"({"format": "hwnas-latency-table", "version": 1, "sections": {"": {"k": {"mean_ms": 1, "count": 3}}}})")),
                          "field 'std_ms' is missing");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, LatencyTable::load(dir + "/none.json"), "none.json", "no such file");
  // A key format no space registered: loaded, refused when paired with a space.
  const auto alien = std::make_shared<LatencyTable>(LatencyTable::load(write("alien.json",
      R"({"format": "hwnas-latency-table", "version": 1, "key_format": "tflite", "device": {"name": "phone"}, "sections": {}})")));
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, LatencyModel(alien, std::shared_ptr<const hwnas::SearchSpace>(hwnas::make_space("nb201"))),
                          "device 'phone'", "key_format 'tflite'", "hwnas", "profile the table again");
  // OFA YAML problems.
  const auto ydir = hwnas::test::temp_dir("bad_yaml");
  hwnas::write_file_atomic(ydir + "/192_lookup_table.yaml", "Conv-x:\n  count: 3\n  mean: [unclosed\n");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, LatencyTable::from_ofa_yaml(ydir, "d"), "192_lookup_table.yaml", "not readable YAML");
  hwnas::write_file_atomic(ydir + "/192_lookup_table.yaml", "Conv-x:\n  count: 3\n  mean: 1.0\n");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, LatencyTable::from_ofa_yaml(ydir, "d"), "entry 'Conv-x'", "count, mean and std");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, LatencyTable::from_ofa_yaml(ydir + "/nope", "d"), "not a folder");
  // A table for another space.
  auto t = std::make_shared<LatencyTable>(LatencyTable::load(dir + "/ok.json"));
  t->space = "darts";
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, LatencyModel(t, std::shared_ptr<hwnas::SearchSpace>(hwnas::make_space("nb201"))),
                          "built for space 'darts', not 'nb201'");
}

TEST_CASE("LayerSpec keys parse back", "[core][layer_spec]") {
  hwnas::LayerSpec l("mbconv", {16, 8, 8}, {24, 4, 4}, {{"k", 5}, {"s", 2}, {"mid", 96}});
  auto back = hwnas::LayerSpec::from_key(l.key());
  REQUIRE(back.key() == l.key());
  REQUIRE(back.attr("mid") == 96);
  REQUIRE_THROWS_AS(hwnas::LayerSpec::from_key("mbconv-in:1x2"), hwnas::ParseError);
  REQUIRE_THROWS_WITH_ALL(hwnas::ParseError, hwnas::LayerSpec::from_key("x-in:1x1x1-out:1x1x1-k:z"), "non-integer");
}

TEST_CASE("A space's layer parts give the layer-by-layer latency, and its errors", "[cost][latency_table]") {
  auto table = std::make_shared<LatencyTable>(LatencyTable::from_ofa_yaml(kOfaDir, "note10"));
  auto space = std::make_shared<hwnas::spaces::OfaSpace>(
      hwnas::spaces::OfaOptions().width_mult(1.2).resolutions({160, 176, 192, 208, 224}));
  const LatencyModel model(table, space);
  const hwnas::cost::AnalyticCostModel analytic(space);
  const auto parts = space->layer_parts();
  REQUIRE(parts.size() == 22);  // stem, 20 blocks, head
  hwnas::Rng rng(3);
  for (int t = 0; t < 200; ++t) {
    const auto arch = space->sample(rng);
    const auto layers = hwnas::test::require_parts_make_layers(*space, arch);
    // The precomputed sum is the layer-by-layer one exactly (one entry per layer, added in order).
    double sum = table->overhead_ms;
    const auto section = std::to_string(space->input_shape_of(arch).h);
    for (const auto& l : layers) sum += table->find(section, model.key(l))->mean_ms;
    REQUIRE(model.predict(arch) == sum);
    REQUIRE(*model.predict_without_layers(arch) == sum);
    // The analytic costs from the parts are the layer-by-layer ones.
    REQUIRE(*analytic.evaluate_without_layers(arch) == analytic.evaluate(arch, layers));
  }
  // A layer the table lacks still names itself.
  auto partial = std::make_shared<LatencyTable>(*table);
  auto& s160 = partial->sections.at("160");
  for (auto it = s160.begin(); it != s160.end();) it = it->first.rfind("expanded_conv", 0) == 0 ? s160.erase(it) : std::next(it);
  auto j = tutorial_subnet();
  j["r"] = {160};
  REQUIRE_FALSE(LatencyModel(partial, space).predict_without_layers(space->from_json(j)));
  REQUIRE_THROWS_WITH_ALL(hwnas::NotFoundError, LatencyModel(partial, space).predict(space->from_json(j)), "no entry for layer",
                          "expanded_conv");
  // A space without parts: nothing precomputed, the layer-by-layer sum.
  REQUIRE_FALSE(hwnas::cost::AnalyticCostModel(nullptr).evaluate_without_layers(space->from_json(j)));
}
