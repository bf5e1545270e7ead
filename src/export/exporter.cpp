#include "hwnas/export/exporter.h"

#include <fmt/format.h>

#include <mutex>

#include "hwnas/core/config.h"
#include "hwnas/export/onnx.h"
#include "hwnas/export/torchscript.h"

namespace hwnas::exporting {
namespace {

class TorchScriptExporter : public Exporter {
 public:
  explicit TorchScriptExporter(const nlohmann::json& config) { ConfigReader(config, "torchscript exporter config").finish(); }
  std::string label() const override { return "TorchScript"; }
  std::string file_name() const override { return "model.pt"; }
  Exported save(nn::Network& net, const Shape& input, const std::string& path) const override {
    const auto r = save_torchscript(net, input, path);
    return {{{"max_abs_diff", r.max_abs_diff}, {"tensors", r.tensors}},
            fmt::format("{} tensors; reloaded output within {:.2g} of the model", r.tensors, r.max_abs_diff)};
  }
};

class OnnxExporter : public Exporter {
 public:
  explicit OnnxExporter(const nlohmann::json& config) {
    ConfigReader r(config, "onnx exporter config");
    options_.opset(r.get_int("opset", options_.opset(), 13, 17));
    r.finish();
  }
  std::string label() const override { return "ONNX"; }
  std::string file_name() const override { return "model.onnx"; }
  Exported save(nn::Network& net, const Shape& input, const std::string& path) const override {
    const auto r = save_onnx(net, input, path, options_);
    return {{{"opset", r.opset}, {"nodes", r.nodes}, {"ops", r.ops}},
            fmt::format("opset {}, {} nodes; passed the ONNX checker and shape inference", r.opset, r.nodes)};
  }

 private:
  OnnxOptions options_;
};

}  // namespace

ExporterRegistry& exporter_registry() {
  static ExporterRegistry registry("exporter");
  static std::once_flag once;
  std::call_once(once, [] {
    registry.add("torchscript", "model.pt: TorchScript that plain LibTorch and PyTorch load, checked after reload",
                 [](const nlohmann::json& c) { return std::make_unique<TorchScriptExporter>(c); });
    registry.add("onnx", "model.onnx: ONNX (\"opset\" 13-17), passed the ONNX checker and shape inference",
                 [](const nlohmann::json& c) { return std::make_unique<OnnxExporter>(c); });
  });
  return registry;
}

}  // namespace hwnas::exporting
