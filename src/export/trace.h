#pragma once
// Internal to src/export: the traced form of a network shared by the TorchScript and ONNX
// exporters.
#include <cstdint>
#include <memory>

#include <torch/script.h>

#include "hwnas/core/layer_spec.h"
#include "hwnas/nn/network.h"

namespace hwnas::exporting::detail {

/// Random inputs from their own generator: exporting leaves the global random state alone.
torch::Tensor example_input(const Shape& input, int64_t batch, uint64_t seed);

struct TracedNetwork {
  /// Module "__torch__.hwnas.ExportedModel": one attribute per parameter and buffer (the
  /// network's own tensors, names sanitized to identifiers) and the traced `forward`.
  torch::jit::Module module;
  int64_t tensors = 0;  // parameters and buffers registered
};

/// Traces `net` in eval mode (left in it) on one example batch of `input` shape.
TracedNetwork trace_network(nn::Network& net, const Shape& input, int64_t batch, uint64_t seed);

}  // namespace hwnas::exporting::detail
