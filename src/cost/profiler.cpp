#include "hwnas/cost/profiler.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <optional>

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "hwnas/core/error.h"
#include "hwnas/core/run_directory.h"
#include "hwnas/core/threads.h"
#include "hwnas/cost/layer_kind.h"
#include "hwnas/nn/network.h"
#include "hwnas/nn/ops.h"
#include "hwnas/version.h"

namespace hwnas::cost {
namespace {

using Clock = std::chrono::steady_clock;

std::string today() {
  std::time_t t = std::time(nullptr);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", std::gmtime(&t));
  return buf;
}

void check_device(const ProfileOptions& o) {
  HWNAS_CHECK_T(ConfigError, o.device() == "cpu" || o.device() == "cuda", "Unknown device '", o.device(),
                "'; devices: cpu, cuda");
  HWNAS_CHECK_T(ConfigError, o.device() == "cpu" || torch::cuda::is_available(), "Device 'cuda' is not available: this ",
                "LibTorch build has no CUDA (torch::cuda::is_available() is false); use --device cpu");
  HWNAS_CHECK_T(ConfigError, o.device() == "cpu", "Profiling on CUDA is not implemented in this build; use --device cpu");
  HWNAS_CHECK_T(ConfigError, o.batch() >= 1, "Expected a batch size >= 1, but got ", o.batch());
}

}  // namespace

std::function<void()> layer_runner(const LayerSpec& layer, int64_t batch) {
  HWNAS_CHECK_T(ConfigError, batch >= 1, "Expected a batch size >= 1, but got ", batch);
  const LayerKind& kind = layer_kind(layer);
  HWNAS_CHECK_T(NotFoundError, kind.build_runner || kind.build, "Layer kind '", layer.kind,
                "' cannot be profiled: it registers neither build nor build_runner (layer ", layer.key(), ")");
  auto run = kind.build_runner ? kind.build_runner(layer, batch) : nn::eval_runner(kind.build(layer), layer.input, batch);
  return [run] {
    torch::NoGradGuard no_grad;
    run();
  };
}

Timing time_runs(const std::function<void()>& fn, const TimingOptions& o) {
  HWNAS_CHECK_T(ConfigError, o.min_runs() >= 1 && o.max_runs() >= o.min_runs() && o.warmup() >= 0,
                "Expected warmup >= 0 and 1 <= min_runs <= max_runs, but got warmup=", o.warmup(), " min_runs=",
                o.min_runs(), " max_runs=", o.max_runs());
  for (int64_t i = 0; i < o.warmup(); ++i) fn();
  std::vector<double> ms;
  const auto start = Clock::now();
  while (static_cast<int64_t>(ms.size()) < o.max_runs()) {
    const auto t0 = Clock::now();
    fn();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (static_cast<int64_t>(ms.size()) >= o.min_runs() &&
        std::chrono::duration<double>(Clock::now() - start).count() >= o.min_seconds())
      break;
  }
  auto sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  auto median_of = [](const std::vector<double>& v) {
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  };
  Timing t;
  t.median_ms = median_of(sorted);
  std::vector<double> dev;
  for (double v : sorted) dev.push_back(std::abs(v - t.median_ms));
  std::sort(dev.begin(), dev.end());
  const double limit = t.median_ms + 5 * 1.4826 * median_of(dev);
  double sum = 0, sq = 0;
  for (double v : sorted) {
    if (v > limit && dev.back() > 0) {
      ++t.outliers;
      continue;
    }
    sum += v;
    sq += v * v;
    ++t.count;
  }
  t.mean_ms = sum / static_cast<double>(t.count);
  t.std_ms = t.count > 1 ? std::sqrt(std::max(0.0, (sq - sum * sum / static_cast<double>(t.count)) / static_cast<double>(t.count - 1))) : 0;
  return t;
}

LatencyTable profile_space(const SearchSpace& space, const ProfileOptions& o) {
  check_device(o);
  tune_allocator();
  const int threads = set_threads(o.threads());
  LatencyTable table;
  const auto mode = output_mode(o.resume(), o.overwrite());
  std::optional<RunFile> out_file;  // held (locked) until the table is complete
  if (!o.out().empty()) out_file.emplace(o.out(), mode, "latency table");
  if (out_file && out_file->resumed()) {
    table = LatencyTable::load(o.out());
    HWNAS_CHECK_T(ConfigError, table.space == space.name() && table.space_config == space.config(), "Cannot resume '",
                  o.out(), "': it is for space '", table.space, "' with config ", table.space_config.dump(),
                  ", not '", space.name(), "' with ", space.config().dump());
    HWNAS_CHECK_T(ConfigError, table.device.threads == threads && table.device.batch == o.batch(), "Cannot resume '",
                  o.out(), "': it was measured with ", table.device.threads, " threads and batch ", table.device.batch,
                  ", not ", threads, " and ", o.batch());
  } else {
    table.space = space.name();
    table.space_config = space.config();
    table.device.name = o.device_name();
    table.device.description = "hwnas profile on " + o.device();
    table.device.framework = "libtorch";
    table.device.framework_version = TORCH_VERSION;
    table.device.threads = threads;
    table.device.batch = o.batch();
    table.device.method = "hwnas " + std::string(kVersion) + " profiler: eval mode, no grad, " +
                          std::to_string(o.timing().warmup()) + " warm-up runs, >= " +
                          std::to_string(o.timing().min_runs()) + " runs and >= " + std::to_string(o.timing().min_seconds()) +
                          " s per layer, slow outliers dropped";
    table.device.date = today();
  }
  const auto layers = space.layer_universe();
  int64_t done = 0, added = 0;
  auto last_save = Clock::now();
  for (const auto& layer : layers) {
    const std::string key = layer.key();
    if (!table.find("", key)) {
      if (o.max_new_entries() > 0 && added >= o.max_new_entries()) break;
      const Timing t = time_runs(layer_runner(layer, o.batch()), o.timing());
      table.set("", key, LatencyEntry{t.mean_ms, t.std_ms, t.count, {{"median_ms", t.median_ms}}});
      ++added;
      if (!o.out().empty() && std::chrono::duration<double>(Clock::now() - last_save).count() >= o.save_every_seconds()) {
        table.save(o.out());
        last_save = Clock::now();
      }
    }
    ++done;
    if (o.on_progress()) o.on_progress()(done, static_cast<int64_t>(layers.size()), key);
  }
  if (!o.out().empty()) table.save(o.out());
  spdlog::debug("profiled {} new layers of space {} ({} in the table)", added, space.name(), table.size());
  return table;
}

Timing measure_network(const SearchSpace& space, const Arch& arch, const ProfileOptions& o) {
  check_device(o);
  tune_allocator();
  set_threads(o.threads());
  auto net = space.build(arch);
  net->eval();
  const auto in = space.input_shape_of(arch);
  auto x = torch::randn({o.batch(), in.c, in.h, in.w});
  return time_runs(
      [&] {
        torch::NoGradGuard no_grad;
        net->forward(x);
      },
      o.timing());
}

}  // namespace hwnas::cost
