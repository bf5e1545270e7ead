#include "hwnas/data/fashion_mnist.h"

#include <cstdlib>

#include "hwnas/data/idx.h"

namespace hwnas::data {

std::string default_fashion_mnist_root() {
  if (const char* env = std::getenv("HWNAS_FASHION_MNIST_DIR"); env && *env) return env;
  return "/usr/share/datasets/fashion-mnist";
}

Dataset load_fashion_mnist(const FashionMnistOptions& options) {
  return load_idx_dataset(IdxDatasetOptions()
                              .root(options.root().empty() ? default_fashion_mnist_root() : options.root())
                              .train(options.train())
                              .limit(options.limit())
                              .normalize(options.normalize())
                              .mean(0.2860)
                              .std(0.3530)
                              .name("fashion-mnist")
                              .hint("Install it with `sudo apt-get install dataset-fashion-mnist` (or "
                                    "scripts/install-deps.sh), or point --data-dir / HWNAS_FASHION_MNIST_DIR to a "
                                    "folder holding {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz"));
}

}  // namespace hwnas::data
