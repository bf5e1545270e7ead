#pragma once
// hwnas profile's arguments and run function, shared with the quickstart.
#include <cstdint>
#include <string>
#include <vector>

#include "cli/context.h"
#include "hwnas/cost/profiler.h"
#include "hwnas/export/kit.h"

namespace hwnas::cli {

/// --device, --threads, --batch, --warmup, --runs, --min-time.
struct TimingArgs {
  int threads = 1;
  int64_t batch = 1, warmup = 3, runs = 10;
  double min_time = 0.1;
  std::string device = "cpu", device_name;
  cost::ProfileOptions options() const {
    return cost::ProfileOptions()
        .threads(threads)
        .batch(batch)
        .device(device)
        .device_name(device_name.empty() ? device : device_name)
        .timing(cost::TimingOptions().warmup(warmup).min_runs(runs).max_runs(std::max<int64_t>(runs, 1000)).min_seconds(min_time));
  }
};

struct ProfileArgs {
  SpaceArgs space;
  TimingArgs timing;
  std::string out, kit_dir;
  bool resume = false, overwrite = false, no_progress = false;
  int64_t limit = 0;
  exporting::KitOptions kit;
  int64_t archs = exporting::KitOptions().archs();
  std::vector<std::string> networks;
  int64_t repetitions = exporting::KitOptions().protocol().repetitions();
  int64_t opset = exporting::KitOptions().opset();
  bool timing_flags = false;  // --resume, --limit, --runs or --min-time given
  bool warmup_given = false;
};

/// Profiles a latency table (--out) or writes a profiling kit (--kit).
void run_profile(Context& ctx, const ProfileArgs& args);

}  // namespace hwnas::cli
