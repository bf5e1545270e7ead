// Train an NB201 arch briefly on Fashion-MNIST and export it as TorchScript, which
// run_exported (plain LibTorch, no hwnas) then loads. Run: export_model [model.pt]
#include <iostream>

#include "hwnas/core/search_space.h"
#include "hwnas/data/fashion_mnist.h"
#include "hwnas/export/torchscript.h"
#include "hwnas/train/trainer.h"

int main(int argc, char** argv) try {
  using namespace hwnas;
  const std::string out = argc > 1 ? argv[1] : "model.pt";
  auto space = make_space("nb201", {{"channels", 8}, {"cells_per_stage", 1}, {"input_channels", 1}, {"input_size", 28}});
  const auto arch = space->parse("|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|");
  auto net = space->build(arch);
  const auto data = data::load_fashion_mnist(data::FashionMnistOptions().limit(2000));
  train::train(*net, data, train::TrainOptions().steps(60).lr(0.05).seed(0));
  const auto test = data::load_fashion_mnist(data::FashionMnistOptions().train(false).limit(1000));
  std::cout << "test accuracy " << train::evaluate(*net, test).accuracy << " (60 steps)\n";
  const auto report = exporting::save_torchscript(*net, space->input_shape_of(arch), out);
  std::cout << "wrote " << report.path << ": " << report.tensors << " tensors, max |difference| after reload "
            << report.max_abs_diff << "\n";
  return 0;
} catch (const std::exception& e) {
  std::cerr << "export_model: " << e.what() << "\n";
  return 1;
}
