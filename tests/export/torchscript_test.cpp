#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/script.h>
#include <torch/torch.h>

#include "hwnas/core/search_space.h"
#include "hwnas/export/torchscript.h"
#include "hwnas/search_spaces/registry.h"
#include "export_util.h"
#include "test_util.h"

namespace fs = std::filesystem;
using hwnas::exporting::save_torchscript;

using hwnas::test::export_spaces;
using hwnas::test::run_command;
using hwnas::test::trained_looking;

TEST_CASE("TorchScript export of every space equals the network, loaded with plain LibTorch", "[export]") {
  const auto dir = hwnas::test::temp_dir("torchscript");
  for (const auto& [name, config] : export_spaces()) {
    auto space = hwnas::make_space(name, config);
    hwnas::Rng rng(7);
    for (int i = 0; i < 2; ++i) {
      const auto arch = space->sample(rng);
      INFO(name << " " << arch.str());
      auto net = trained_looking(*space, arch);
      const auto path = dir + "/" + name + std::to_string(i) + ".pt";
      const auto report = save_torchscript(*net, space->input_shape_of(arch), path);
      CHECK(report.max_abs_diff <= 1e-5);
      CHECK(report.tensors == static_cast<int64_t>(net->parameters().size() + net->buffers().size()));
      // Loaded on its own (torch::jit::load knows nothing of hwnas), at a batch size not traced.
      auto loaded = torch::jit::load(path);
      const auto s = space->input_shape_of(arch);
      torch::NoGradGuard no_grad;
      const auto x = torch::randn({5, s.c, s.h, s.w});
      const auto y = loaded.forward({x}).toTensor();
      CHECK((y - net->forward(x)).abs().max().item<double>() <= 1e-5);
    }
  }
}

TEST_CASE("TorchScript export runs in Python PyTorch with no hwnas code", "[export][python]") {
  const auto dir = hwnas::test::temp_dir("torchscript_python");
  const std::string client = hwnas::test::source_dir() + "/tests/export/torchscript_client.py";
  REQUIRE(fs::exists("/usr/bin/python3"));
  for (const auto& [name, config] : export_spaces()) {
    auto space = hwnas::make_space(name, config);
    hwnas::Rng rng(11);
    const auto arch = space->sample(rng);
    INFO(name << " " << arch.str());
    auto net = trained_looking(*space, arch);
    const auto model = dir + "/" + name + ".pt";
    save_torchscript(*net, space->input_shape_of(arch), model);
    const auto s = space->input_shape_of(arch);
    torch::NoGradGuard no_grad;
    const auto x = torch::randn({3, s.c, s.h, s.w});
    const auto y = net->forward(x);
    for (const auto& [file, t] : {std::pair{dir + "/x.pt", x}, std::pair{dir + "/y.pt", y}}) {
      const auto bytes = torch::jit::pickle_save(t);
      std::ofstream(file, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }
    const auto out = run_command("/usr/bin/python3 " + client + " " + model + " " + dir + "/x.pt " + dir + "/y.pt");
    const auto j = hwnas::test::last_json(out);
    CHECK(j.at("max_abs_diff").get<double>() <= 1e-5);
  }
}

namespace {
// A forward that reads the batch size as a number: the trace turns it into a constant.
class BatchConstant : public hwnas::nn::Network {
 public:
  torch::Tensor forward(const torch::Tensor& x) override {
    return x.mean({2, 3}) * static_cast<double>(x.size(0));
  }
};
class BatchView : public hwnas::nn::Network {
 public:
  torch::Tensor forward(const torch::Tensor& x) override { return x.view({x.size(0), -1}); }
};
}  // namespace

TEST_CASE("TorchScript export refuses a forward the trace cannot capture, writing nothing", "[export]") {
  const auto dir = hwnas::test::temp_dir("torchscript_bad");
  const hwnas::Shape s{3, 4, 4};
  BatchConstant constant;
  REQUIRE_THROWS_WITH_ALL(hwnas::Error, save_torchscript(constant, s, dir + "/a.pt"), "differs from the network",
                          "nothing written");
  BatchView view;
  REQUIRE_THROWS_WITH_ALL(hwnas::Error, save_torchscript(view, s, dir + "/b.pt"), "batch", "nothing written");
  CHECK_FALSE(fs::exists(dir + "/a.pt"));
  CHECK_FALSE(fs::exists(dir + "/b.pt"));
}
