#pragma once
// Profiling kits: a space's layers and some of its whole networks as standalone model
// files, for measuring latency on a device or runtime hwnas does not run on (a phone with
// ONNX Runtime or TFLite, a Jetson with TensorRT, a vendor SDK).
//
//   exporting::write_profiling_kit(*space, exporting::KitOptions().dir("nb201-kit").archs(100));
//   // hwnas profile --space nb201 --kit nb201-kit --archs 100
//
// The kit folder (written whole or not at all):
//   manifest.json   format "hwnas-profiling-kit" version 1: the space and its configuration,
//                   batch, dtype, layout, the timing protocol, a fingerprint, and one entry
//                   per model: {"id", "key" (layers: the latency-table key) or "arch"
//                   (networks), "input": [N, C, H, W], "torchscript", "onnx"}
//                   and "overhead": an identity model (layers/OVERHEAD.*) a runner times
//                   for the runtime's own cost of one call
//   models.tsv      the same models for runners without a JSON parser: a first line
//                   "# hwnas-profiling-kit 1 <fingerprint> warmup <w> repetitions <r>", then
//                   "<id>\t<overhead|layer|network>\t<torchscript file>\t<onnx file>\t<N>x<C>x<H>x<W>"
//   layers/L0001.pt, layers/L0001.onnx, ...     every distinct layer (layer_universe()) whose
//                   kind can be built (cost::LayerKind::build), one input of its shape
//   networks/N0001.pt, networks/N0001.onnx, ... whole networks of sampled archs, to
//                   calibrate the per-layer sums against
// Every model is in eval mode with random weights drawn from the seed (latency does not
// depend on the values), so the same space, options and seed give the same manifest.
// Identity and zero layers cost nothing and have no module; they are not in a kit.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwnas/core/options.h"
#include "hwnas/core/search_space.h"

namespace hwnas::exporting {

/// How a runner times each model of a kit (recorded in the manifest and models.tsv).
struct KitProtocol {
  /// Untimed runs first.
  HWNAS_ARG(int64_t, warmup) = 10;
  /// Timed runs, one at a time; the runner reports their median (and mean, std, count).
  HWNAS_ARG(int64_t, repetitions) = 50;

 public:
  void validate() const;
};

struct KitOptions {
  /// The kit folder (must not exist unless overwrite).
  HWNAS_ARG(std::string, dir);
  /// Whole networks of distinct random archs (0: none).
  HWNAS_ARG(int64_t, archs) = 20;
  /// Whole networks of these archs (canonical strings, e.g. a search's winners, to measure
  /// on the device), before the random ones; the random ones are distinct from them.
  HWNAS_ARG(std::vector<std::string>, networks);
  HWNAS_ARG(int64_t, batch) = 1;
  HWNAS_ARG(KitProtocol, protocol);
  /// ONNX opset of the .onnx files (13 to 17).
  HWNAS_ARG(int64_t, opset) = 13;
  /// Weights and the archs sampled.
  HWNAS_ARG(uint64_t, seed) = 0;
  HWNAS_ARG(bool, overwrite) = false;
  /// Called after each model with (done, total, id).
  HWNAS_ARG(std::function<void(int64_t, int64_t, const std::string&)>, on_progress);

 public:
  /// ConfigError naming the field.
  void validate() const;
};

struct KitReport {
  std::string dir;
  int64_t layers = 0, networks = 0;
  /// Layers of kinds with no module (identity, zero), by kind.
  std::vector<std::string> skipped_kinds;
  std::string fingerprint;
};

/// Writes the kit of `space` (see above); throws ConfigError if dir exists (without
/// overwrite) and Error if a model cannot be exported, naming its layer or arch.
KitReport write_profiling_kit(const SearchSpace& space, const KitOptions& options);

}  // namespace hwnas::exporting
