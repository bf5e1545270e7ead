// Run a model exported by hwnas with plain LibTorch: this program links LibTorch only.
// Run: run_exported model.pt  (e.g. the file export_model wrote)
#include <iostream>

#include <torch/script.h>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: run_exported model.pt\n";
    return 2;
  }
  try {
    torch::jit::Module model = torch::jit::load(argv[1]);
    model.eval();
    torch::NoGradGuard no_grad;
    const auto x = torch::rand({4, 1, 28, 28});  // a batch of 4 Fashion-MNIST-sized images
    const auto logits = model.forward({x}).toTensor();
    const auto classes = logits.argmax(1);
    std::cout << "logits " << logits.sizes() << ", predicted classes";
    for (int64_t i = 0; i < classes.size(0); ++i) std::cout << " " << classes[i].item<int64_t>();
    std::cout << "\n";
    return logits.size(0) == 4 ? 0 : 1;
  } catch (const c10::Error& e) {
    std::cerr << "run_exported: " << e.what_without_backtrace() << "\n";
    return 1;
  }
}
