#pragma once
// ONNX export: a network of any space as an `.onnx` model (opset 13 to 17) that ONNX
// Runtime, or any ONNX consumer, runs with no hwnas or LibTorch code.
//
// The network's forward is traced in eval mode (as for TorchScript), its parameters are
// frozen into the graph and every op computed from weights alone (a transposed classifier
// weight, a kernel cropped from a larger one) is folded into an initializer. Each remaining
// ATen op becomes ONNX nodes; an op with no mapping is refused by name, nothing written,
// unless its conversion is registered (register_onnx_op).
// The model is checked by the ONNX checker and ONNX shape inference, whose inferred output
// shape must be the network's, before it is written atomically. The batch dimension is
// symbolic ("batch"): one file serves every batch size.
//
// Example:
//   auto report = exporting::save_onnx(*net, space->input_shape_of(arch), "model.onnx");
//   // report.ops: {"Conv": 12, "BatchNormalization": 12, ...}
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

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

/// The ATen ops save_onnx converts (e.g. "aten::_convolution"): the built-in ones and
/// those registered with register_onnx_op, sorted.
std::vector<std::string> onnx_supported_ops();

/// An ONNX node being added by an op conversion (OnnxNodeWriter::add): set its attributes.
class OnnxNodeAttributes {
 public:
  OnnxNodeAttributes& i(const std::string& name, int64_t value);
  OnnxNodeAttributes& f(const std::string& name, float value);
  OnnxNodeAttributes& ints(const std::string& name, const std::vector<int64_t>& values);

 private:
  friend class OnnxNodeWriter;
  explicit OnnxNodeAttributes(void* node) : node_(node) {}
  void* node_;  // the onnx::NodeProto
};

/// What a registered conversion sees of one traced ATen op: its inputs and outputs by ONNX
/// name, its constant arguments, the traced shapes, and a way to add ONNX nodes.
class OnnxNodeWriter {
 public:
  /// The ONNX name of tensor input `index` (a weight or constant becomes an initializer).
  std::string input(size_t index);
  /// The ONNX name of output `index`.
  std::string output(size_t index = 0);
  /// Argument `index` as a constant (throws Error naming the op if it is computed at run time).
  int64_t int_input(size_t index) const;
  double float_input(size_t index) const;
  std::vector<int64_t> ints_input(size_t index) const;
  /// The sizes the trace recorded for input `index` (its batch dimension is the trace batch).
  std::vector<int64_t> input_sizes(size_t index) const;
  /// A fresh name for an intermediate tensor.
  std::string temp();
  /// An int64 (1-D) or float (scalar) initializer; returns its name.
  std::string constant(const std::vector<int64_t>& values);
  std::string constant(float value);
  /// Adds an ONNX node of `op_type` (opset of the export) to the graph.
  OnnxNodeAttributes add(const std::string& op_type, const std::vector<std::string>& inputs,
                         const std::vector<std::string>& outputs);
  /// Refuses the op with a message saying why (nothing is written).
  [[noreturn]] void refuse(const std::string& why) const;

 private:
  friend struct OnnxWriterAccess;
  OnnxNodeWriter(void* converter, const void* node) : converter_(converter), node_(node) {}
  void* converter_;
  const void* node_;
};

/// Converts one ATen op (e.g. "aten::transpose") into ONNX nodes.
using OnnxOpConversion = std::function<void(OnnxNodeWriter&)>;

/// Registers the conversion of an ATen op the exporter lacks, for a layer kind whose module
/// uses it (see examples/custom_layer_kind.cpp). Throws ConfigError if the op is converted
/// already (built in or registered).
void register_onnx_op(const std::string& aten_op, OnnxOpConversion conversion);

}  // namespace hwnas::exporting
