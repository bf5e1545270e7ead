#pragma once
// TorchScript export: a network of any space (built-in or custom) as a `.pt` file that
// torch::jit::load in plain C++ and torch.jit.load in Python run with no hwnas code.
//
// The network's forward is traced in eval mode: LibTorch's tracer records the ATen ops it
// runs, and every parameter and buffer becomes an attribute of the TorchScript module
// (named after its path, dots as underscores), so the file holds the trained weights and
// a readable `forward`. The saved file is loaded back and compared with the network on
// random inputs at batch sizes other than the traced one (a forward that turned a batch
// size into a constant is caught there).
//
// Example:
//   auto net = space->build(arch);                       // then train it
//   auto report = exporting::save_torchscript(*net, space->input_shape_of(arch), "model.pt");
//   // report.max_abs_diff <= 1e-5
#include <cstdint>
#include <string>
#include <vector>

#include "hwnas/core/layer_spec.h"
#include "hwnas/core/options.h"
#include "hwnas/nn/network.h"

namespace hwnas::exporting {

struct TorchScriptOptions {
  /// Batch size of the traced example input.
  HWNAS_ARG(int64_t, trace_batch) = 2;
  /// Batch sizes the saved module is checked at (loaded back from the file).
  HWNAS_ARG(std::vector<int64_t>, check_batches) = std::vector<int64_t>{1, 3};
  /// Largest absolute difference from the network accepted in the check.
  HWNAS_ARG(double, tolerance) = 1e-5;
  HWNAS_ARG(uint64_t, seed) = 0;
};

struct ExportReport {
  std::string path;
  double max_abs_diff = 0;  // over the check batches
  int64_t tensors = 0;      // parameters and buffers stored
};

/// Traces `net` (switched to eval mode, left in it) on inputs of `input` shape and writes
/// the TorchScript module to `path` (atomically: a temporary file renamed into place).
/// Throws Error if the saved module differs from the network by more than the tolerance.
ExportReport save_torchscript(nn::Network& net, const Shape& input, const std::string& path,
                              const TorchScriptOptions& options = TorchScriptOptions());

}  // namespace hwnas::exporting
