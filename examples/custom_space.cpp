// A user-defined search space, written outside the library: a tiny CNN whose three conv
// layers each choose a width (8, 16, 32) and a kernel (3, 5). Registered by name, it works
// with every API and, through hwnas::cli, every command of the hwnas CLI:
//
//   ./custom_space                                   # the API tour below
//   ./custom_space sample --space tiny -n 3          # any hwnas command
//   ./custom_space info --space tiny --arch w16k3-w32k5-w8k3
#include <iostream>

#include <torch/torch.h>

#include "hwnas/cli/cli.h"
#include "hwnas/hwnas.h"
#include "hwnas/nn/network.h"
#include "hwnas/search_spaces/registry.h"

namespace {

const std::vector<std::string> kWidths = {"8", "16", "32"}, kKernels = {"3", "5"};
constexpr int kLayers = 3;

class TinyNet : public hwnas::nn::Network {
 public:
  TinyNet(const std::vector<int64_t>& widths, const std::vector<int64_t>& kernels, int64_t classes) {
    int64_t in = 1;
    for (size_t i = 0; i < widths.size(); ++i) {
      layers_->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, widths[i], kernels[i])
                                               .stride(2).padding(kernels[i] / 2).bias(false)));
      layers_->push_back(torch::nn::BatchNorm2d(widths[i]));
      layers_->push_back(torch::nn::ReLU());
      in = widths[i];
    }
    register_module("layers", layers_);
    classifier_ = register_module("classifier", torch::nn::Linear(in, classes));
  }
  torch::Tensor forward(const torch::Tensor& x) override {
    return classifier_->forward(layers_->forward(x).mean({2, 3}));
  }

 private:
  torch::nn::Sequential layers_;
  torch::nn::Linear classifier_{nullptr};
};

class TinySpace : public hwnas::SearchSpace {
 public:
  TinySpace() {
    for (int i = 0; i < kLayers; ++i) {
      choices_.push_back({"width" + std::to_string(i), kWidths});
      choices_.push_back({"kernel" + std::to_string(i), kKernels});
    }
  }
  std::string name() const override { return "tiny"; }
  std::string description() const override { return "Tiny 3-layer CNN for 28x28 images (example)"; }
  nlohmann::json config() const override { return nlohmann::json::object(); }
  const std::vector<hwnas::Choice>& choices() const override { return choices_; }
  hwnas::Shape input_shape() const override { return {1, 28, 28}; }

 protected:
  // Canonical string: one "w<width>k<kernel>" per layer, joined by '-'.
  std::string genes_to_string(const std::vector<int>& g) const override {
    std::string s;
    for (int i = 0; i < kLayers; ++i)
      s += (i ? "-w" : "w") + kWidths[g[2 * i]] + "k" + kKernels[g[2 * i + 1]];
    return s;
  }
  std::vector<int> parse_genes(const std::string& s) const override {
    std::vector<int> g;
    size_t pos = 0;
    for (int i = 0; i < kLayers; ++i) {
      int w = 0, k = 0, used = 0;
      HWNAS_CHECK_T(hwnas::ParseError, std::sscanf(s.c_str() + pos, "w%dk%d%n", &w, &k, &used) == 2,
                    "Invalid tiny arch '", s, "' at character ", pos + 1, ": expected w<8|16|32>k<3|5>");
      auto wi = std::find(kWidths.begin(), kWidths.end(), std::to_string(w)) - kWidths.begin();
      auto ki = std::find(kKernels.begin(), kKernels.end(), std::to_string(k)) - kKernels.begin();
      HWNAS_CHECK_T(hwnas::ParseError, wi < 3 && ki < 2, "Invalid tiny arch '", s, "': width 8|16|32, kernel 3|5");
      g.push_back(static_cast<int>(wi));
      g.push_back(static_cast<int>(ki));
      pos += static_cast<size_t>(used);
      HWNAS_CHECK_T(hwnas::ParseError, pos == s.size() ? i == kLayers - 1 : (i < kLayers - 1 && s[pos++] == '-'),
                    "Invalid tiny arch '", s, "': expected ", kLayers, " layers joined by '-'");
    }
    return g;
  }
  std::vector<hwnas::LayerSpec> do_layers(const std::vector<int>& g, const hwnas::Shape& input) const override {
    std::vector<hwnas::LayerSpec> out;
    hwnas::Shape cur = input;
    for (int i = 0; i < kLayers; ++i) {
      hwnas::Shape next{std::stoll(kWidths[g[2 * i]]), (cur.h + 1) / 2, (cur.w + 1) / 2};
      out.emplace_back("conv_bn_act", cur, next,
                       std::vector<std::pair<std::string, int64_t>>{{"k", std::stoll(kKernels[g[2 * i + 1]])}, {"s", 2}, {"act", 1}},
                       "conv" + std::to_string(i));
      cur = next;
    }
    out.emplace_back("global_avg_pool", cur, hwnas::Shape{cur.c, 1, 1});
    out.emplace_back("linear", hwnas::Shape{cur.c, 1, 1}, hwnas::Shape{10, 1, 1});
    return out;
  }
  std::shared_ptr<hwnas::nn::Network> do_build(const std::vector<int>& g, const hwnas::BuildOptions&) const override {
    std::vector<int64_t> widths, kernels;
    for (int i = 0; i < kLayers; ++i) {
      widths.push_back(std::stoll(kWidths[g[2 * i]]));
      kernels.push_back(std::stoll(kKernels[g[2 * i + 1]]));
    }
    return std::make_shared<TinyNet>(widths, kernels, 10);
  }

 private:
  std::vector<hwnas::Choice> choices_;
};

}  // namespace

int main(int argc, char** argv) {
  hwnas::space_registry().add("tiny", TinySpace().description(),
                              [](const nlohmann::json&) { return std::make_unique<TinySpace>(); });
  if (argc > 1) return hwnas::cli::run_main(argc, argv);  // every hwnas command knows "tiny" now

  auto space = hwnas::make_space("tiny");
  hwnas::Rng rng(0);
  for (int i = 0; i < 3; ++i) {
    auto arch = space->sample(rng);
    auto net = space->build(arch);
    std::cout << arch.str() << "  params=" << hwnas::cost::network_cost(space->layers(arch)).params
              << " (built: " << hwnas::nn::count_parameters(*net) << ")  logits "
              << net->forward(torch::randn({2, 1, 28, 28})).sizes() << "\n";
  }
  return 0;
}
