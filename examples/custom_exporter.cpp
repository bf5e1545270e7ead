// An exporter written outside the library: "c_header" writes a trained network's weights as
// a C header (every floating-point parameter and buffer as a float array with its shape),
// what a microcontroller firmware compiles in. Registered by name, `hwnas export --format
// c_header` writes it beside the built-in formats, into the same staged export folder and
// model.json. The header is read back and compared with the network before it counts.
//
//   ./custom_exporter train --space nb201 --arch ... --epochs 1 --out run
//   ./custom_exporter export --run run --format c_header,onnx    # run/export/model.h
#include <torch/torch.h>

#include <cctype>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "hwnas/cli/cli.h"
#include "hwnas/core/config.h"
#include "hwnas/core/error.h"
#include "hwnas/export/exporter.h"
#include "hwnas/nn/network.h"

namespace {

std::string c_name(const std::string& prefix, const std::string& name) {
  std::string out = prefix;
  for (char c : name) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

class CHeaderExporter : public hwnas::exporting::Exporter {
 public:
  explicit CHeaderExporter(const nlohmann::json& config) {
    hwnas::ConfigReader r(config, "c_header exporter config");
    prefix_ = r.get_string("prefix", "hwnas_");
    r.finish();
  }
  std::string label() const override { return "C header"; }
  std::string file_name() const override { return "model.h"; }

  hwnas::exporting::Exported save(hwnas::nn::Network& net, const hwnas::Shape& input,
                                  const std::string& path) const override {
    net.eval();
    std::vector<std::pair<std::string, torch::Tensor>> tensors;
    for (const auto& p : net.named_parameters()) tensors.emplace_back(p.key(), p.value());
    for (const auto& b : net.named_buffers())
      if (b.value().is_floating_point()) tensors.emplace_back(b.key(), b.value());

    std::ostringstream h;
    h << "// Weights exported by custom_exporter (hwnas): input 1x" << input.str() << ", row-major floats.\n"
      << "#pragma once\n";
    int64_t floats = 0;
    for (const auto& [name, t] : tensors) {
      const auto flat = t.detach().to(torch::kFloat32).contiguous().view(-1);
      const auto id = c_name(prefix_, name);
      h << "static const long " << id << "_shape[] = {" << fmt::format("{}", fmt::join(t.sizes(), ", ")) << "};\n";
      h << "static const float " << id << "[" << flat.numel() << "] = {";
      const float* v = flat.data_ptr<float>();
      for (int64_t i = 0; i < flat.numel(); ++i) h << (i ? ", " : "") << fmt::format("{:.9g}f", v[i]);
      h << "};\n";
      floats += flat.numel();
    }
    {
      std::ofstream f(path, std::ios::binary);
      f << h.str();
      HWNAS_CHECK_T(hwnas::DataError, f.good(), "Cannot write ", path);
    }
    check(path, tensors);
    return {{{"tensors", static_cast<int64_t>(tensors.size())}, {"floats", floats}},
            fmt::format("{} tensors, {} floats; read back equal to the network", tensors.size(), floats)};
  }

 private:
  // Parses every array back from the file and compares it with the network's tensor.
  void check(const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& tensors) const {
    std::ifstream f(path);
    std::string line;
    size_t k = 0;
    while (std::getline(f, line)) {
      if (line.rfind("static const float ", 0) != 0) continue;
      HWNAS_INTERNAL_ASSERT(k < tensors.size(), path, ": more arrays than tensors");
      std::vector<float> values;
      std::istringstream in(line.substr(line.find('{') + 1));
      for (std::string item; std::getline(in, item, ',');) values.push_back(std::stof(item));
      const auto expected = tensors[k].second.detach().to(torch::kFloat32).contiguous().view(-1);
      const auto got = torch::tensor(values);
      HWNAS_INTERNAL_ASSERT(got.numel() == expected.numel() && torch::equal(got, expected), path, ": ",
                    tensors[k].first, " differs from the network after reading back");
      ++k;
    }
    HWNAS_INTERNAL_ASSERT(k == tensors.size(), path, ": ", k, " arrays for ", tensors.size(), " tensors");
  }

  std::string prefix_;
};

}  // namespace

int main(int argc, char** argv) {
  hwnas::exporting::exporter_registry().add(
      "c_header", "model.h: every float parameter and buffer as a C array with its shape (\"prefix\")",
      [](const nlohmann::json& config) { return std::make_unique<CHeaderExporter>(config); });
  return hwnas::cli::run_main(argc, argv);  // every command, with c_header among the export formats
}
