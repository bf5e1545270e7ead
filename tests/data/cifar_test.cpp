#include <catch2/catch.hpp>

#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "hwnas/data/cifar.h"
#include "test_util.h"

using hwnas::data::CifarOptions;
using hwnas::data::load_cifar;

namespace {

uint8_t pixel(int r, int c, int y, int x) { return hwnas::test::cifar_pixel(r, c, y, x); }

// Records [first, first + n) with the given label bytes before the pixels.
void write_records(const std::string& path, int first, int n, const std::function<std::vector<uint8_t>(int)>& labels) {
  std::ofstream f(path, std::ios::binary);
  for (int r = first; r < first + n; ++r) {
    for (auto b : labels(r)) f.put(static_cast<char>(b));
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 32; ++y)
        for (int x = 0; x < 32; ++x) f.put(static_cast<char>(pixel(r, c, y, x)));
  }
}

// CIFAR-10: five training batches of 2 records, a test batch of 3 (records 10..12).
std::string cifar10_folder(const std::string& name) { return hwnas::test::cifar10_folder(name, 2, 3); }

void check_pixels(const torch::Tensor& images, int first) {
  const auto bytes = (images * 255).round().to(torch::kInt64);
  for (int64_t i = 0; i < images.size(0); ++i)
    for (int c = 0; c < 3; ++c)
      for (int y : {0, 5, 31})
        for (int x : {0, 17, 31})
          REQUIRE(bytes[i][c][y][x].item<int64_t>() == pixel(first + static_cast<int>(i), c, y, x));
}

}  // namespace

TEST_CASE("CIFAR-10 binary batches load in file order with exact pixels", "[data][cifar]") {
  const auto dir = cifar10_folder("cifar10_ok");
  const auto train = load_cifar(CifarOptions().root(dir).normalize(false));
  REQUIRE(train.images.sizes() == torch::IntArrayRef({10, 3, 32, 32}));
  REQUIRE(train.num_classes == 10);
  for (int64_t i = 0; i < 10; ++i) CHECK(train.labels[i].item<int64_t>() == i % 10);
  check_pixels(train.images, 0);
  const auto test = load_cifar(CifarOptions().root(dir).train(false).normalize(false));
  REQUIRE(test.size() == 3);
  check_pixels(test.images, 10);
  CHECK(test.name == "cifar10/test");
  // A limit reads only what it needs, across batch files.
  const auto three = load_cifar(CifarOptions().root(dir).limit(3).normalize(false));
  REQUIRE(three.size() == 3);
  CHECK(torch::equal(three.images, train.images.slice(0, 0, 3)));
  // Normalised with the published per-channel statistics.
  const auto norm = load_cifar(CifarOptions().root(dir));
  CHECK(norm.images[1][2][5][17].item<float>() ==
        Approx((pixel(1, 2, 5, 17) / 255.0 - 0.4465) / 0.2616).epsilon(1e-5));
}

TEST_CASE("CIFAR-100 gives fine or coarse labels", "[data][cifar]") {
  const auto dir = hwnas::test::temp_dir("cifar100_ok");
  const auto labels = [](int r) { return std::vector<uint8_t>{static_cast<uint8_t>(r % 20), static_cast<uint8_t>((r * 3) % 100)}; };
  write_records(dir + "/train.bin", 0, 40, labels);
  write_records(dir + "/test.bin", 40, 2, labels);
  const auto fine = load_cifar(CifarOptions().root(dir).classes(100).normalize(false));
  REQUIRE(fine.size() == 40);
  REQUIRE(fine.num_classes == 100);
  CHECK(fine.labels[39].item<int64_t>() == (39 * 3) % 100);
  check_pixels(fine.images, 0);
  const auto coarse = load_cifar(CifarOptions().root(dir).classes(100).fine_labels(false).train(false).normalize(false));
  REQUIRE(coarse.num_classes == 20);
  CHECK(coarse.labels[1].item<int64_t>() == 41 % 20);
  check_pixels(coarse.images, 40);
}

TEST_CASE("CIFAR errors name the file and the fault", "[data][cifar]") {
  SECTION("a missing batch") {
    REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load_cifar(CifarOptions().root("/no/such/cifar")),
                            "/no/such/cifar/data_batch_1.bin", "missing", "binary version");
  }
  SECTION("a truncated batch") {
    const auto dir = cifar10_folder("cifar10_trunc");
    std::ofstream(dir + "/data_batch_3.bin", std::ios::binary | std::ios::app) << "xyz";
    REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load_cifar(CifarOptions().root(dir)), "data_batch_3.bin", "6149 bytes",
                            "3073-byte records");
  }
  SECTION("CIFAR-100 records read as CIFAR-10") {
    const auto dir = hwnas::test::temp_dir("cifar_mixed");
    write_records(dir + "/test_batch.bin", 0, 1, [](int) { return std::vector<uint8_t>{12}; });
    REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load_cifar(CifarOptions().root(dir).train(false)), "test_batch.bin",
                            "label 12", "record 0", "0..9");
  }
  SECTION("bad options") {
    REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, load_cifar(CifarOptions().classes(20)), "10 or 100", "20");
  }
}
