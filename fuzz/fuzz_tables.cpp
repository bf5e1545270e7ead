// Latency tables (hwnas JSON and Once-for-All YAML), predictor files, profiling kits'
// manifests, kit results files and learned latency model files.
#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "hwnas/core/json.h"
#include "hwnas/cost/latency_table.h"
#include "hwnas/estimate/learned_latency.h"
#include "hwnas/export/kit_import.h"
#include "hwnas/predictors/predictor.h"
#include "hwnas/search_spaces/registry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto kind = data[0] % 6;
  hwnas::fuzz::expect_only_errors([&] {
    if (kind == 2) {  // an OFA folder with one YAML file
      static const std::string dir = hwnas::fuzz::scratch_dir() + "/ofa";
      std::filesystem::create_directories(dir);
      hwnas::fuzz::write_file(dir + "/192_lookup_table.yaml", data + 1, size - 1);
      (void)hwnas::cost::LatencyTable::from_ofa_yaml(dir, "fuzz");
      return;
    }
    const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    if (kind == 3) {  // a kit results file (JSON Lines)
      (void)hwnas::exporting::KitResults::parse(text, "fuzz");
      return;
    }
    if (kind == 4) {  // a kit manifest
      (void)hwnas::exporting::ProfilingKit::from_json(hwnas::parse_json(text, "fuzz"), "fuzz");
      return;
    }
    const auto j = hwnas::parse_json(text, "fuzz");
    if (kind == 5) {  // a learned latency model, without its table (one named is then refused)
      static const std::shared_ptr<const hwnas::SearchSpace> space(hwnas::make_space("nb201"));
      if (hwnas::estimate::LearnedLatencyModel::table_needed(j, "fuzz").empty())
        (void)hwnas::estimate::LearnedLatencyModel::from_json(j, "fuzz", space);
      return;
    }
    if (kind == 0) {
      const auto t = hwnas::cost::LatencyTable::from_json(j, "fuzz");
      (void)hwnas::cost::LatencyTable::from_json(t.to_json(), "round trip");
    } else {
      (void)hwnas::predictors::predictor_from_json(j, "fuzz");
    }
  });
  return 0;
}
