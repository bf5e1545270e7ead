#pragma once
// ONNX export: a network of any space as an `.onnx` model (opset 13 to 17) that ONNX
// Runtime, or any ONNX consumer, runs with no hwnas or LibTorch code.
//
// The network's forward is traced in eval mode (as for TorchScript), its parameters are
// frozen into the graph and every op computed from weights alone (a transposed classifier
// weight, a kernel cropped from a larger one) is folded into an initializer. Each remaining
// ATen op becomes ONNX nodes; an op with no mapping is refused by name, nothing written.
// The model is checked by the ONNX checker and ONNX shape inference, whose inferred output
// shape must be the network's, before it is written atomically. The batch dimension is
// symbolic ("batch"): one file serves every batch size.
//
// Example:
//   auto report = exporting::save_onnx(*net, space->input_shape_of(arch), "model.onnx");
//   // report.ops: {"Conv": 12, "BatchNormalization": 12, ...}
#include <cstdint>
#include <map>
#include <string>

#include "hwnas/core/layer_spec.h"
#include "hwnas/core/options.h"
#include "hwnas/nn/network.h"

namespace hwnas::exporting {

struct OnnxOptions {
  /// ONNX operator set, 13 to 17 (17 is the newest the ONNX checker here knows).
  HWNAS_ARG(int64_t, opset) = 13;
  /// Batch size of the traced example input (the model's batch dimension stays symbolic).
  HWNAS_ARG(int64_t, trace_batch) = 2;
  HWNAS_ARG(uint64_t, seed) = 0;
  /// The graph's name inside the model.
  HWNAS_ARG(std::string, graph_name) = "hwnas";
};

struct OnnxReport {
  std::string path;
  int64_t opset = 0;
  int64_t nodes = 0;
  int64_t initializers = 0;          // weight tensors and constants stored
  std::map<std::string, int64_t> ops;  // ONNX op type -> count
};

/// Converts `net` (switched to eval mode, left in it) for inputs of `input` shape and
/// writes the model to `path`. Throws Error naming the op if an ATen op has no ONNX
/// mapping, and if the checker or shape inference rejects the model.
OnnxReport save_onnx(nn::Network& net, const Shape& input, const std::string& path,
                     const OnnxOptions& options = OnnxOptions());

/// The ATen ops save_onnx converts (e.g. "aten::_convolution"), sorted.
std::vector<std::string> onnx_supported_ops();

}  // namespace hwnas::exporting
