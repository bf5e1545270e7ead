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
/// Defaults are the library's (cost::ProfileOptions, cost::TimingOptions).
struct TimingArgs {
  int threads = cost::ProfileOptions().threads();
  int64_t batch = cost::ProfileOptions().batch();
  int64_t warmup = cost::TimingOptions().warmup(), runs = cost::TimingOptions().min_runs();
  double min_time = cost::TimingOptions().min_seconds();
  std::string device = cost::ProfileOptions().device(), device_name;
  cost::ProfileOptions options() const {
    return cost::ProfileOptions()
        .threads(threads)
        .batch(batch)
        .device(device)
        .device_name(device_name.empty() ? device : device_name)
        .timing(cost::TimingOptions().warmup(warmup).min_runs(runs).max_runs(std::max(runs, cost::TimingOptions().max_runs())).min_seconds(min_time));
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
