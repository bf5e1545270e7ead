#pragma once
// Exporters: what `hwnas export --format NAME` writes for a trained network, one file each
// in the export folder, registered by name (built-ins "torchscript" and "onnx"; `hwnas
// exporters` lists them). A user's exporter registers once and every export can write it:
//
//   hwnas::exporting::exporter_registry().add("c_header", "Weights as C arrays",
//       [](const nlohmann::json& config) { return std::make_unique<CHeaderExporter>(config); });
//   // hwnas export --run RUN --format c_header,onnx
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "hwnas/core/layer_spec.h"
#include "hwnas/core/registry.h"

namespace hwnas::nn {
class Network;
}

namespace hwnas::exporting {

struct Exported {
  /// Goes into model.json's "files" entry beside {"file": file_name()}.
  nlohmann::json report = nlohmann::json::object();
  /// One line for the user, e.g. "12 tensors; reloaded output within 1e-7 of the model".
  std::string summary;
};

class Exporter {
 public:
  virtual ~Exporter() = default;
  /// What the summary line starts with, e.g. "TorchScript".
  virtual std::string label() const = 0;
  /// The file's name in the export folder, e.g. "model.pt".
  virtual std::string file_name() const = 0;
  /// Writes `net` (eval mode) for inputs of `input` shape to `path`, checked; throws Error
  /// if it cannot.
  virtual Exported save(nn::Network& net, const Shape& input, const std::string& path) const = 0;
};

/// The config is the exporter's options, e.g. onnx: {"opset": 17}.
using ExporterRegistry = Registry<Exporter>;

ExporterRegistry& exporter_registry();

}  // namespace hwnas::exporting
