#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <torch/torch.h>
#include <zlib.h>

#include "hwnas/data/fashion_mnist.h"
#include "test_util.h"

namespace fs = std::filesystem;
using hwnas::data::FashionMnistOptions;
using hwnas::data::load_fashion_mnist;

namespace {
// Writes bytes gzipped to path.
void write_gz(const std::string& path, const std::vector<uint8_t>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  if (!bytes.empty()) REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) > 0);
  gzclose(f);
}
std::vector<uint8_t> idx_header(uint32_t magic, std::vector<uint32_t> dims) {
  std::vector<uint8_t> b;
  auto put = [&](uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
  };
  put(magic);
  for (auto d : dims) put(d);
  return b;
}
// A valid tiny Fashion-MNIST folder with n samples; the caller may then damage a file.
std::string tiny_dataset(const std::string& name, int n) {
  auto dir = hwnas::test::temp_dir(name);
  auto images = idx_header(0x803, {static_cast<uint32_t>(n), 28, 28});
  images.resize(images.size() + static_cast<size_t>(n) * 784, 128);
  auto labels = idx_header(0x801, {static_cast<uint32_t>(n)});
  for (int i = 0; i < n; ++i) labels.push_back(static_cast<uint8_t>(i % 10));
  write_gz(dir + "/train-images-idx3-ubyte.gz", images);
  write_gz(dir + "/train-labels-idx1-ubyte.gz", labels);
  return dir;
}
}  // namespace

TEST_CASE("Fashion-MNIST loads from the Debian package", "[data][fashion_mnist]") {
  auto train = load_fashion_mnist(FashionMnistOptions().limit(1000));
  REQUIRE(train.size() == 1000);
  REQUIRE(train.images.sizes() == torch::IntArrayRef({1000, 1, 28, 28}));
  REQUIRE(train.labels.dtype() == torch::kInt64);
  REQUIRE(train.labels.min().item<int64_t>() == 0);
  REQUIRE(train.labels.max().item<int64_t>() == 9);
  REQUIRE(train.num_classes == 10);
  // Standardised with the training set's statistics: mean ~0, std ~1 on a sample.
  REQUIRE(train.images.mean().item<double>() == Approx(0.0).margin(0.05));
  REQUIRE(train.images.std().item<double>() == Approx(1.0).margin(0.05));
  auto raw = load_fashion_mnist(FashionMnistOptions().limit(10).normalize(false));
  REQUIRE(raw.images.min().item<double>() >= 0.0);
  REQUIRE(raw.images.max().item<double>() <= 1.0);

  auto test = load_fashion_mnist(FashionMnistOptions().train(false));
  REQUIRE(test.size() == 10000);
  // Each Fashion-MNIST class has exactly 1,000 test images.
  REQUIRE(torch::bincount(test.labels).eq(1000).all().item<bool>());
}

TEST_CASE("Fashion-MNIST train/validation split is seeded", "[data][fashion_mnist]") {
  auto d = load_fashion_mnist(FashionMnistOptions().limit(200));
  auto [t1, v1] = hwnas::data::split(d, 0.25, 7);
  auto [t2, v2] = hwnas::data::split(d, 0.25, 7);
  auto [t3, v3] = hwnas::data::split(d, 0.25, 8);
  REQUIRE(t1.size() == 150);
  REQUIRE(v1.size() == 50);
  REQUIRE(torch::equal(v1.labels, v2.labels));
  REQUIRE(torch::equal(v1.images, v2.images));
  REQUIRE_FALSE(torch::equal(v1.images, v3.images));
  REQUIRE_THROWS_AS(hwnas::data::split(d, 1.5, 0), hwnas::ConfigError);
}

TEST_CASE("Fashion-MNIST errors name the file, the fault and the fix", "[data][fashion_mnist]") {
  SECTION("missing folder") {
    REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load_fashion_mnist(FashionMnistOptions().root("/no/such/dir")),
                            "/no/such/dir/train-images-idx3-ubyte.gz", "missing",
                            "apt-get install dataset-fashion-mnist");
  }
  SECTION("a valid tiny folder loads") {
    auto dir = tiny_dataset("fmnist_ok", 5);
    auto d = load_fashion_mnist(FashionMnistOptions().root(dir));
    REQUIRE(d.size() == 5);
  }
  SECTION("wrong magic number") {
    auto dir = tiny_dataset("fmnist_magic", 5);
    fs::copy_file(dir + "/train-labels-idx1-ubyte.gz", dir + "/train-images-idx3-ubyte.gz",
                  fs::copy_options::overwrite_existing);
    REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load_fashion_mnist(FashionMnistOptions().root(dir)),
                            "train-images-idx3-ubyte.gz", "magic number 0x00000801", "expected 0x00000803");
  }
  SECTION("truncated data") {
    auto dir = tiny_dataset("fmnist_trunc", 5);
    auto images = idx_header(0x803, {5, 28, 28});
    images.resize(images.size() + 1000, 1);
    write_gz(dir + "/train-images-idx3-ubyte.gz", images);
    REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load_fashion_mnist(FashionMnistOptions().root(dir)),
                            "truncated", "3920 bytes", "only 1000");
  }
  SECTION("truncated header") {
    auto dir = tiny_dataset("fmnist_header", 5);
    write_gz(dir + "/train-labels-idx1-ubyte.gz", {0, 0});
    REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load_fashion_mnist(FashionMnistOptions().root(dir)),
                            "train-labels-idx1-ubyte.gz", "truncated");
  }
  SECTION("corrupt gzip") {
    auto dir = tiny_dataset("fmnist_gzip", 5);
    // A gzip header followed by garbage.
    std::ofstream(dir + "/train-labels-idx1-ubyte.gz", std::ios::binary)
        << std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbage-garbage-garbage", 30);
    REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load_fashion_mnist(FashionMnistOptions().root(dir)),
                            "train-labels-idx1-ubyte.gz");
  }
  SECTION("images and labels disagree") {
    auto dir = tiny_dataset("fmnist_count", 5);
    auto labels = idx_header(0x801, {4});
    labels.insert(labels.end(), {1, 2, 3, 4});
    write_gz(dir + "/train-labels-idx1-ubyte.gz", labels);
    REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load_fashion_mnist(FashionMnistOptions().root(dir)),
                            "holds 5 images", "4 labels");
  }
  SECTION("a header promising more than the file can hold") {
    auto dir = tiny_dataset("fmnist_huge", 5);
    auto images = idx_header(0x803, {16000000, 16000000, 16000000});
    write_gz(dir + "/train-images-idx3-ubyte.gz", images);
    REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load_fashion_mnist(FashionMnistOptions().root(dir)),
                            "train-images-idx3-ubyte.gz", "exceeds 2^40");
    write_gz(dir + "/train-images-idx3-ubyte.gz", idx_header(0x803, {60000, 28, 28}));
    REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load_fashion_mnist(FashionMnistOptions().root(dir)),
                            "declares 47040000 bytes", "header is damaged");
  }
  SECTION("the header count disagrees with the data, also when only a part is read") {
    auto dir = tiny_dataset("fmnist_extra", 5);
    auto labels = idx_header(0x801, {4});
    labels.insert(labels.end(), {1, 2, 3, 4, 5});
    write_gz(dir + "/train-labels-idx1-ubyte.gz", labels);
    REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load_fashion_mnist(FashionMnistOptions().root(dir).limit(2)),
                            "train-labels-idx1-ubyte.gz", "more data than its header declares");
    labels = idx_header(0x801, {4});
    labels.insert(labels.end(), {1, 2, 3, 4});
    write_gz(dir + "/train-labels-idx1-ubyte.gz", labels);
    REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load_fashion_mnist(FashionMnistOptions().root(dir).limit(2)),
                            "holds 5 images", "4 labels");
  }
  SECTION("damaged compressed data after the part that is read") {
    auto dir = tiny_dataset("fmnist_crc", 10);
    const auto path = dir + "/train-images-idx3-ubyte.gz";
    std::string bytes;
    {
      std::ifstream in(path, std::ios::binary);
      bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    bytes[bytes.size() - 6] = static_cast<char>(bytes[bytes.size() - 6] ^ 0x5a);  // inside the CRC-32 trailer
    std::ofstream(path, std::ios::binary) << bytes;
    REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load_fashion_mnist(FashionMnistOptions().root(dir).limit(1)),
                            "train-images-idx3-ubyte.gz", "corrupt");
  }
  SECTION("label out of range") {
    auto dir = tiny_dataset("fmnist_label", 2);
    auto labels = idx_header(0x801, {2});
    labels.insert(labels.end(), {1, 12});
    write_gz(dir + "/train-labels-idx1-ubyte.gz", labels);
    REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load_fashion_mnist(FashionMnistOptions().root(dir)),
                            "label 12 at index 1");
  }
}
