// Image-folder loading: decoding, resizing, normalising, augmentation (random crop of the
// padded image, horizontal flip) and batching, streamed through data::Loader's workers.
// The peer, benchmarks/peers/torchvision_loader.py, does the same with torchvision's
// ImageFolder and DataLoader (results and commands in docs/benchmarks.md).
// Usage: bench_data ROOT --size S [--batch 64] [--workers 2] [--epochs 2] [--augment 1]
// Prints one JSON line: images per second of the last epoch (the first warms up).
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "hwnas/core/error.h"
#include "hwnas/data/loader.h"
#include "hwnas/data/registry.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: bench_data ROOT [--size 32] [--batch 64] [--workers 2] [--epochs 2]\n";
    return 2;
  }
  int64_t size = 32, batch = 64, workers = 2, epochs = 2, augment = 1;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const int64_t v = std::atoll(argv[i + 1]);
    if (flag == "--size") size = v;
    else if (flag == "--batch") batch = v;
    else if (flag == "--workers") workers = v;
    else if (flag == "--epochs") epochs = v;
    else if (flag == "--augment") augment = v;  // 0: decoding, normalising and batching only
  }
  try {
    hwnas::data::DataRequest q;
    q.dir(argv[1]);
    // Streamed (decoded every epoch, as torchvision does), with fixed statistics as the
    // peer's Normalize has.
    const auto data = hwnas::data::load_dataset(
        "image-folder",
        {{"size", size}, {"cache", "stream"}, {"normalize", {{"mean", {0.5, 0.5, 0.5}}, {"std", {0.25, 0.25, 0.25}}}}}, q);
    const auto aug = augment ? hwnas::data::Augmentation().pad(size / 8).flip(true) : hwnas::data::Augmentation();
    double seconds = 0;
    int64_t images = 0;
    for (int64_t e = 0; e < epochs; ++e) {
      const auto start = std::chrono::steady_clock::now();
      hwnas::data::Loader loader(
          data, hwnas::data::LoaderOptions().batch_size(batch).shuffle(true).seed(static_cast<uint64_t>(e)).augmentation(aug).workers(workers));
      images = 0;
      for (hwnas::data::Batch b; loader.next(b);) images += b.images.size(0);
      seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    std::cout << nlohmann::json{{"loader", "hwnas"}, {"images", images}, {"seconds", seconds},
                                {"images_per_second", static_cast<double>(images) / seconds}}
                     .dump()
              << "\n";
  } catch (const hwnas::Error& e) {
    std::cerr << "bench_data: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
