#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <fmt/format.h>
#include <torch/torch.h>

#include "export_util.h"
#include "hwnas/core/search_space.h"
#include "hwnas/export/onnx.h"
#include "hwnas/search_spaces/registry.h"
#include "test_util.h"

namespace fs = std::filesystem;
using hwnas::exporting::save_onnx;
using hwnas::test::run_command;

namespace {

void write_floats(const std::string& path, const torch::Tensor& t) {
  const auto c = t.contiguous();
  std::ofstream(path, std::ios::binary).write(static_cast<const char*>(c.data_ptr()), static_cast<std::streamsize>(c.nbytes()));
}

torch::Tensor read_floats(const std::string& path, const std::vector<int64_t>& shape) {
  std::ifstream in(path, std::ios::binary);
  auto t = torch::empty(shape);
  in.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(t.nbytes()));
  REQUIRE(in.gcount() == static_cast<std::streamsize>(t.nbytes()));
  return t;
}

// Checks `model` with the ONNX checker and shape inference of Debian's python3-onnx, runs
// it in ONNX Runtime (npm onnxruntime-node under Node.js) on a random batch and returns the
// largest absolute difference from `net`.
double outside_diff(hwnas::nn::Network& net, const hwnas::Shape& s, const std::string& model, int64_t batch = 3) {
  const auto src = hwnas::test::source_dir() + "/tests/export";
  const auto check = hwnas::test::last_json(run_command("/usr/bin/python3 " + src + "/onnx_check.py " + model));
  CHECK(check.at("output_shape").at(0) == "batch");
  const auto client = src + "/onnx_client";
  INFO("ONNX Runtime client missing: run scripts/install-deps.sh --with-clients (npm ci --ignore-scripts in " << client << ")");
  REQUIRE(fs::exists(client + "/node_modules/onnxruntime-node/package.json"));
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({batch, s.c, s.h, s.w});
  const auto want = net.forward(x);
  write_floats(model + ".in", x);
  const auto out = hwnas::test::last_json(run_command(fmt::format("node {}/run.mjs {} {}.in {} {} {} {} {}.out", client, model, model,
                                                                  batch, s.c, s.h, s.w, model)));
  REQUIRE(out.at("shape").get<std::vector<int64_t>>() == want.sizes().vec());
  return (read_floats(model + ".out", want.sizes().vec()) - want).abs().max().item<double>();
}

}  // namespace

TEST_CASE("ONNX export of every space passes the checker and matches in ONNX Runtime", "[export][onnx]") {
  const auto dir = hwnas::test::temp_dir("onnx");
  std::set<std::string> ops;
  for (const auto& [name, config] : hwnas::test::export_spaces()) {
    auto space = hwnas::make_space(name, config);
    hwnas::Rng rng(7);
    for (int i = 0; i < 3; ++i) {
      const auto arch = space->sample(rng);
      INFO(name << " " << arch.str());
      auto net = hwnas::test::trained_looking(*space, arch);
      const auto model = dir + "/" + name + std::to_string(i) + ".onnx";
      const auto report = save_onnx(*net, space->input_shape_of(arch), model);
      CHECK(report.opset == 13);
      CHECK(report.nodes > 0);
      for (const auto& [op, count] : report.ops) ops.insert(op);
      CHECK(outside_diff(*net, space->input_shape_of(arch), model) <= 1e-4);
    }
  }
  // The ops the built-in spaces' networks use, each run by ONNX Runtime above.
  for (const char* op : {"Conv", "BatchNormalization", "Relu", "Add", "AveragePool", "MaxPool", "Concat", "Slice",
                         "Shape", "ConstantOfShape", "Clip", "HardSigmoid", "Mul", "ReduceMean", "Gemm", "Flatten",
                         "GlobalAveragePool"}) {
    INFO(op);
    CHECK(ops.count(op) == 1);
  }
}

namespace {
// Ops no built-in space uses but that custom spaces commonly do.
class Custom : public hwnas::nn::Network {
 public:
  Custom() {
    conv_ = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 6, 3).padding(1).bias(false)));
    fc_ = register_module("fc", torch::nn::Linear(6 * 2 * 2, 5));
  }
  torch::Tensor forward(const torch::Tensor& x) override {
    auto h = torch::nn::functional::relu6(conv_->forward(x));
    h = torch::sigmoid(h) * torch::tanh(h) - h / 4.0;
    h = torch::adaptive_avg_pool2d(h, {2, 2}).view({-1, 6 * 2 * 2});
    return torch::softmax(fc_->forward(h), 1);
  }
  torch::nn::Conv2d conv_{nullptr};
  torch::nn::Linear fc_{nullptr};
};
class Gelu : public hwnas::nn::Network {
 public:
  torch::Tensor forward(const torch::Tensor& x) override { return torch::gelu(x).flatten(1); }
};
// flatten(2) (a Reshape keeping the batch symbolic) and a transpose, converted by a
// conversion registered in the test.
class Positions : public hwnas::nn::Network {
 public:
  torch::Tensor forward(const torch::Tensor& x) override { return torch::matmul(x.flatten(2), x.flatten(2).transpose(1, 2)).flatten(1); }
};
class BatchView : public hwnas::nn::Network {
 public:
  torch::Tensor forward(const torch::Tensor& x) override { return x.view({2, -1}); }
};
}  // namespace

TEST_CASE("ONNX export of a custom network's ops, at opsets 13 and 17", "[export][onnx]") {
  const auto dir = hwnas::test::temp_dir("onnx_custom");
  Custom net;
  const hwnas::Shape s{3, 8, 8};
  for (int64_t opset : {13, 17}) {
    const auto path = dir + "/custom" + std::to_string(opset) + ".onnx";
    const auto report = save_onnx(net, s, path, hwnas::exporting::OnnxOptions().opset(opset));
    CHECK(report.opset == opset);
    CHECK(report.ops.count("Softmax") == 1);
    CHECK(report.ops.count("Reshape") == 1);
    CHECK(outside_diff(net, s, path, 4) <= 1e-4);
  }
}

TEST_CASE("A registered op conversion exports an op the exporter lacks", "[export][onnx]") {
  const auto dir = hwnas::test::temp_dir("onnx_registered");
  const hwnas::Shape s{3, 4, 5};
  Positions net;
  REQUIRE_THROWS_WITH_ALL(hwnas::Error, save_onnx(net, s, dir + "/p.onnx"), "aten::transpose", "no ONNX mapping");
  REQUIRE_FALSE(std::filesystem::exists(dir + "/p.onnx"));
  hwnas::exporting::register_onnx_op("aten::transpose", [](hwnas::exporting::OnnxNodeWriter& w) {
    REQUIRE(w.input_sizes(0).size() == 3);
    REQUIRE(w.int_input(1) == 1);
    REQUIRE(w.int_input(2) == 2);
    w.add("Transpose", {w.input(0)}, {w.output()}).ints("perm", {0, 2, 1});
  });
  const auto ops = hwnas::exporting::onnx_supported_ops();
  CHECK(std::find(ops.begin(), ops.end(), "aten::transpose") != ops.end());
  const auto report = save_onnx(net, s, dir + "/p.onnx");
  CHECK(report.ops.at("Transpose") == 1);
  CHECK(report.ops.at("Reshape") == 2);  // the two flatten(2)
  CHECK(outside_diff(net, s, dir + "/p.onnx", 3) <= 1e-4);
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, hwnas::exporting::register_onnx_op("aten::softmax", {}),
                          "no conversion given");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError,
                          hwnas::exporting::register_onnx_op("aten::softmax", [](hwnas::exporting::OnnxNodeWriter&) {}),
                          "hwnas converts aten::softmax already");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError,
                          hwnas::exporting::register_onnx_op("transpose", [](hwnas::exporting::OnnxNodeWriter&) {}),
                          "not an ATen op name");
}

TEST_CASE("ONNX export refuses what it cannot convert, naming it, writing nothing", "[export][onnx]") {
  const auto dir = hwnas::test::temp_dir("onnx_bad");
  const hwnas::Shape s{3, 4, 4};
  Gelu gelu;
  REQUIRE_THROWS_WITH_ALL(hwnas::Error, save_onnx(gelu, s, dir + "/gelu.onnx"), "aten::gelu", "no ONNX mapping",
                          "TorchScript", "nothing written");
  BatchView view;
  REQUIRE_THROWS_WITH_ALL(hwnas::Error, save_onnx(view, s, dir + "/view.onnx"), "aten::view", "batch",
                          "nothing written");
  Custom net;
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, save_onnx(net, {3, 8, 8}, dir + "/c.onnx",
                                                        hwnas::exporting::OnnxOptions().opset(12)),
                          "opset 12", "13 to 17");
  CHECK(fs::is_empty(dir));
}
