#pragma once
// The on-device profiler: times every distinct layer a space can produce (its
// layer_universe) as a LibTorch module on this device and writes a latency table; also
// times whole networks. Timing: warm-up runs, then repeated runs until both a minimum
// count and a minimum time are reached; slow outliers (beyond median + 5 scaled MADs,
// e.g. preemption) are dropped; mean, std and median of the rest are kept.
#include <cstdint>
#include <functional>
#include <string>

#include "hwnas/core/options.h"
#include "hwnas/core/search_space.h"
#include "hwnas/cost/latency_table.h"

namespace hwnas::cost {

struct TimingOptions {
  HWNAS_ARG(int64_t, warmup) = 3;
  HWNAS_ARG(int64_t, min_runs) = 10;
  HWNAS_ARG(int64_t, max_runs) = 1000;
  /// Keep running until this much time was spent (after min_runs).
  HWNAS_ARG(double, min_seconds) = 0.1;
};

struct Timing {
  double mean_ms = 0, std_ms = 0, median_ms = 0;
  int64_t count = 0;     // runs kept
  int64_t outliers = 0;  // runs dropped
};

/// Times `fn` as described above.
Timing time_runs(const std::function<void()>& fn, const TimingOptions& options = {});

/// Example:
///   auto table = profile_space(*space, ProfileOptions().threads(1).out("cpu.json").resume(true));
struct ProfileOptions {
  HWNAS_ARG(TimingOptions, timing) = TimingOptions();
  HWNAS_ARG(int64_t, batch) = 1;
  /// Intra-op threads (0: all cores).
  HWNAS_ARG(int, threads) = 1;
  /// "cpu" (CUDA when LibTorch has it: not in Debian's CPU build).
  HWNAS_ARG(std::string, device) = "cpu";
  /// Name recorded in the table (latency@<name>).
  HWNAS_ARG(std::string, device_name) = "cpu";
  /// Where the table is saved (atomically, every save_every_seconds and at the end);
  /// empty: not saved.
  HWNAS_ARG(std::string, out);
  /// Continue the table at `out` (skip layers already in it) instead of refusing to
  /// overwrite it.
  HWNAS_ARG(bool, resume) = false;
  /// Replace an existing table at out (it is replaced at the first save). Excludes resume.
  HWNAS_ARG(bool, overwrite) = false;
  HWNAS_ARG(double, save_every_seconds) = 5.0;
  /// Stop after measuring this many new layers (0: all); the table stays resumable.
  HWNAS_ARG(int64_t, max_new_entries) = 0;
  /// Called after each layer with (done, total, key).
  HWNAS_ARG(std::function<void(int64_t, int64_t, const std::string&)>, on_progress);
};

/// One layer built by its kind (layer_kind_registry()) and run under no-grad, as the profiler does.
std::function<void()> layer_runner(const LayerSpec& layer, int64_t batch);

/// Builds (or, with resume, completes) the latency table of `space` on this device.
LatencyTable profile_space(const SearchSpace& space, const ProfileOptions& options);

/// Times the whole standalone network of `arch` (eval mode, no gradients).
Timing measure_network(const SearchSpace& space, const Arch& arch, const ProfileOptions& options);

}  // namespace hwnas::cost
