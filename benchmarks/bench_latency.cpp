// Latency-table benchmarks on this machine:
//  1. profiling cost: wall time to build a full table for a space;
//  2. table accuracy: 100 random archs measured whole vs the table's sum (MAPE, share
//     within +-10%, Kendall tau), then a correction fitted on 50 and checked on the other 50,
//     and learned latency models (a GP on the encoding, times the table and alone) likewise;
//  3. lookup throughput: archs per second for table latency and for analytic MACs (1 thread).
// Usage: bench_latency [--threads 1,2] [--archs 100] [--space ofa|mobilenet|all] [--stat mean|median]
//                      [--json out.json]
#include <chrono>
#include <cstring>
#include <iostream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "hwnas/core/io.h"
#include "hwnas/core/threads.h"
#include "hwnas/cost/analytic.h"
#include "hwnas/cost/calibration.h"
#include "hwnas/estimate/learned_latency.h"
#include "hwnas/predictors/predictor.h"
#include "hwnas/cost/profiler.h"
#include "hwnas/search_spaces/registry.h"

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

nlohmann::json report(const hwnas::cost::CalibrationReport& r) {
  return {{"n", r.n}, {"mape", r.mape}, {"within10", r.within10}, {"within5", r.within5}, {"kendall_tau", r.kendall_tau}};
}
}  // namespace

int main(int argc, char** argv) try {
  std::vector<int> thread_counts{1, 2};
  int archs = 100;
  std::string which = "all", json_out, stat = "mean";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--threads")) {
      thread_counts.clear();
      std::stringstream ss(argv[i + 1]);
      for (std::string t; std::getline(ss, t, ',');) thread_counts.push_back(std::stoi(t));
    } else if (!std::strcmp(argv[i], "--archs")) archs = std::stoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--space")) which = argv[i + 1];
    else if (!std::strcmp(argv[i], "--json")) json_out = argv[i + 1];
    else if (!std::strcmp(argv[i], "--stat")) stat = argv[i + 1];  // mean or median, for layers and networks
  }
  // OFA at three of its resolutions (a full 25-resolution table takes ~8x longer to profile).
  const std::vector<std::pair<std::string, nlohmann::json>> spaces = {
      {"ofa", {{"resolutions", {160, 192, 224}}}},
      {"mobilenet", {{"preset", "proxyless"}}},
  };
  nlohmann::json results = nlohmann::json::array();
  for (const auto& [name, config] : spaces) {
    if (which != "all" && which != name) continue;
    auto space = std::shared_ptr<const hwnas::SearchSpace>(hwnas::make_space(name, config));
    for (int threads : thread_counts) {
      const auto timing = hwnas::cost::TimingOptions().warmup(3).min_runs(10).max_runs(1000).min_seconds(0.1);
      const auto opts = hwnas::cost::ProfileOptions().threads(threads).timing(timing);
      auto start = Clock::now();
      auto table = std::make_shared<hwnas::cost::LatencyTable>(hwnas::cost::profile_space(*space, opts));
      const double profile_s = seconds_since(start);
      hwnas::Rng rng(2026);
      std::vector<hwnas::cost::Measurement> ms;
      start = Clock::now();
      for (int i = 0; i < archs; ++i) {
        auto a = space->sample(rng);
        const auto t = hwnas::cost::measure_network(*space, a, opts);
        ms.push_back({a, stat == "median" ? t.median_ms : t.mean_ms});
      }
      const double measure_s = seconds_since(start);
      const auto lopts = hwnas::cost::LatencyOptions().metric(stat == "median" ? "median_ms" : "mean_ms");
      hwnas::cost::LatencyModel raw(table, space, lopts);
      const auto all = hwnas::cost::evaluate_table(raw, ms);
      const size_t half = ms.size() / 2;
      std::vector<hwnas::cost::Measurement> fit(ms.begin(), ms.begin() + static_cast<long>(half)),
          held(ms.begin() + static_cast<long>(half), ms.end());
      auto calibrated = std::make_shared<hwnas::cost::LatencyTable>(*table);
      hwnas::cost::fit_calibration(*calibrated, space, fit, 1e-3, lopts);
      const auto before = hwnas::cost::evaluate_table(raw, held);
      auto calibrated_model = std::make_shared<hwnas::cost::LatencyModel>(calibrated, space, lopts);
      const auto after = hwnas::cost::evaluate_table(*calibrated_model, held);
      // Learned latency models on the same split: a Gaussian process on the arch encoding
      // predicting the ratio measured / calibrated table, and alone on the latency.
      std::vector<hwnas::Arch> held_archs;
      for (const auto& m : held) held_archs.push_back(m.arch);
      hwnas::estimate::LearnedLatencyModel learned(space, hwnas::predictors::make_predictor("gp"), calibrated_model);
      learned.fit(fit);
      const auto after_learned = hwnas::cost::evaluate_predictions(learned.predict(held_archs), held);
      hwnas::estimate::LearnedLatencyModel alone(space, hwnas::predictors::make_predictor("gp"));
      alone.fit(fit);
      const auto gp_alone = hwnas::cost::evaluate_predictions(alone.predict(held_archs), held);
      // Lookup throughput, one thread.
      hwnas::set_threads(1);
      std::vector<hwnas::Arch> pool;
      for (int i = 0; i < 1000; ++i) pool.push_back(space->sample(rng));
      start = Clock::now();
      double sink = 0;
      int lookups = 0;
      while (seconds_since(start) < 1.0)
        for (const auto& a : pool) sink += raw.predict(a), ++lookups;
      const double lookup_rate = lookups / seconds_since(start);
      start = Clock::now();
      int counted = 0;
      while (seconds_since(start) < 1.0)
        for (const auto& a : pool) sink += static_cast<double>(hwnas::cost::network_cost(space->layers(a)).macs), ++counted;
      const double macs_rate = counted / seconds_since(start);
      nlohmann::json r = {{"space", name},          {"config", config},          {"threads", threads}, {"stat", stat},
                          {"table_entries", table->size()}, {"profile_seconds", profile_s}, {"measure_seconds", measure_s},
                          {"all_uncalibrated", report(all)}, {"held_out_uncalibrated", report(before)},
                          {"held_out_calibrated", report(after)}, {"held_out_learned_gp_x_table", report(after_learned)},
                          {"held_out_learned_gp_alone", report(gp_alone)}, {"lookups_per_second", lookup_rate},
                          {"macs_per_second", macs_rate}, {"checksum", sink}};
      std::cout << fmt::format(
          "{} threads={}: table {} entries profiled in {:.1f}s; {} archs measured in {:.1f}s\n"
          "  all, uncalibrated:      MAPE {:.2f}%  within10 {:.0f}%  tau {:.3f}\n"
          "  held-out uncalibrated:  MAPE {:.2f}%  within10 {:.0f}%  tau {:.3f}\n"
          "  held-out calibrated:    MAPE {:.2f}%  within10 {:.0f}%  tau {:.3f}\n"
          "  held-out gp x table:    MAPE {:.2f}%  within10 {:.0f}%  tau {:.3f}\n"
          "  held-out gp alone:      MAPE {:.2f}%  within10 {:.0f}%  tau {:.3f}\n"
          "  lookups {:.0f} archs/s (table), {:.0f} archs/s (MACs), 1 thread\n",
          name, threads, table->size(), profile_s, archs, measure_s, all.mape, 100 * all.within10, all.kendall_tau,
          before.mape, 100 * before.within10, before.kendall_tau, after.mape, 100 * after.within10, after.kendall_tau,
          after_learned.mape, 100 * after_learned.within10, after_learned.kendall_tau, gp_alone.mape,
          100 * gp_alone.within10, gp_alone.kendall_tau,
          lookup_rate, macs_rate) << std::flush;
      results.push_back(r);
    }
  }
  if (!json_out.empty()) hwnas::write_file_atomic(json_out, results.dump(2) + "\n");
  return 0;
} catch (const std::exception& e) {
  std::cerr << "bench_latency: " << e.what() << "\n";
  return 2;
}
