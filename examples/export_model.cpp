// Train an NB201 arch briefly on Fashion-MNIST with the final-training recipe and export it
// as TorchScript and ONNX; run_exported (plain LibTorch, no hwnas) then loads the .pt.
// Run: export_model [model.pt]   (the ONNX model goes next to it, as .onnx)
#include <iostream>

#include "hwnas/core/search_space.h"
#include "hwnas/data/fashion_mnist.h"
#include "hwnas/export/onnx.h"
#include "hwnas/export/torchscript.h"
#include "hwnas/search_spaces/registry.h"
#include "hwnas/train/final_training.h"

int main(int argc, char** argv) try {
  using namespace hwnas;
  const std::string out = argc > 1 ? argv[1] : "model.pt";
  auto space = make_space("nb201", {{"channels", 8}, {"cells_per_stage", 1}, {"input_channels", 1}, {"input_size", 28}});
  const auto arch = space->parse("|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|");
  auto net = space->build(arch);
  const auto train = data::load_fashion_mnist(data::FashionMnistOptions().limit(2000));
  const auto test = data::load_fashion_mnist(data::FashionMnistOptions().train(false).limit(1000));
  const auto result = train::train_final(*net, train, &test, train::FinalTrainingOptions().epochs(2).batch_size(64));
  std::cout << "test accuracy " << result.test_accuracy << " after 2 epochs on 2,000 images\n";
  const auto ts = exporting::save_torchscript(*net, space->input_shape_of(arch), out);
  std::cout << "wrote " << ts.path << ": " << ts.tensors << " tensors, max |difference| after reload "
            << ts.max_abs_diff << "\n";
  const auto onnx_path = out.substr(0, out.rfind('.')) + ".onnx";
  const auto onnx = exporting::save_onnx(*net, space->input_shape_of(arch), onnx_path);
  std::cout << "wrote " << onnx.path << ": opset " << onnx.opset << ", " << onnx.nodes << " nodes\n";
  return 0;
} catch (const std::exception& e) {
  std::cerr << "export_model: " << e.what() << "\n";
  return 1;
}
