// Latency tables in a few steps: profile a small NAS-Bench-201 configuration on this CPU,
// predict archs from the table, measure them whole, and calibrate the table.
//
//   ./latency_tour [table.json]
#include <iostream>

#include "hwnas/cost/calibration.h"
#include "hwnas/cost/profiler.h"
#include "hwnas/hwnas.h"
#include "hwnas/search_spaces/registry.h"

int main(int argc, char** argv) try {
  std::shared_ptr<const hwnas::SearchSpace> space =
      hwnas::make_space("nb201", {{"channels", 8}, {"cells_per_stage", 2}, {"input_size", 16}});
  const auto options = hwnas::cost::ProfileOptions()
                           .threads(1)
                           .timing(hwnas::cost::TimingOptions().warmup(2).min_runs(5).min_seconds(0.01))
                           .out(argc > 1 ? argv[1] : "");
  // 1. Every distinct layer of the space, timed on this device.
  auto table = std::make_shared<hwnas::cost::LatencyTable>(hwnas::cost::profile_space(*space, options));
  std::cout << table->size() << " layers profiled\n";

  // 2. Whole networks: table sum vs measured.
  hwnas::cost::LatencyModel model(table, space);
  hwnas::Rng rng(1);
  std::vector<hwnas::cost::Measurement> measured;
  for (int i = 0; i < 12; ++i) {
    auto arch = space->sample(rng);
    measured.push_back({arch, hwnas::cost::measure_network(*space, arch, options).mean_ms});
    if (i < 3) std::cout << arch.str() << ": table " << model.predict(arch) << " ms, measured " << measured.back().ms << " ms\n";
  }
  auto report = hwnas::cost::evaluate_table(model, measured);
  std::cout << "table vs measured: MAPE " << report.mape << "%, Kendall tau " << report.kendall_tau << "\n";

  // 3. A fitted correction (per layer kind scale + per-network offset), stored in the table.
  hwnas::cost::fit_calibration(*table, space, measured);
  auto after = hwnas::cost::evaluate_table(hwnas::cost::LatencyModel(table, space), measured);
  std::cout << "calibrated: MAPE " << after.mape << "% (offset " << table->calibration_offset_ms << " ms)\n";
  return 0;
} catch (const hwnas::Error& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 2;
}
