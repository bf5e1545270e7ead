#include <catch2/catch.hpp>

#include <fstream>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "hwnas/data/registry.h"
#include "test_util.h"

using namespace hwnas;
using namespace hwnas::data;

namespace {

void write_idx(const std::string& path, uint32_t magic, const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data) {
  std::ofstream f(path, std::ios::binary);
  auto put = [&](uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) f.put(static_cast<char>(v >> s));
  };
  put(magic);
  for (auto d : dims) put(d);
  f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

DataRequest request(std::string dir, bool train, int64_t limit, uint64_t seed = 0) {
  DataRequest q;
  q.dir(std::move(dir));
  q.train(train);
  q.limit(limit);
  q.seed(seed);
  return q;
}

}  // namespace

TEST_CASE("The dataset registry holds the built-ins and refuses unknown names", "[data][registry]") {
  for (const char* name : {"cifar10", "cifar100", "fashion-mnist", "mnist", "synthetic"}) CHECK(dataset_registry().contains(name));
  REQUIRE_THROWS_WITH_ALL(NotFoundError, load_dataset("imagenet", {}, request("", true, 1)), "'imagenet'", "cifar10",
                          "synthetic");
  REQUIRE_THROWS_WITH_ALL(ConfigError, load_dataset("synthetic", nlohmann::json::array(), request("", true, 1)),
                          "must be a JSON object");
}

TEST_CASE("Synthetic data: the test part shares the classes, not the samples", "[data][registry]") {
  const auto train = load_dataset("synthetic", {{"size", 8}}, request("", true, 64, 3));
  const auto test = load_dataset("synthetic", {{"size", 8}}, request("", false, 64, 3));
  REQUIRE(train.images.sizes() == torch::IntArrayRef({64, 1, 8, 8}));
  CHECK_FALSE(torch::equal(train.images, test.images));
  CHECK(torch::equal(test.images, load_dataset("synthetic", {{"size", 8}}, request("", false, 64, 3)).images));
  // A larger set extends a smaller one (what a train/validation slice relies on).
  CHECK(torch::equal(train.images, load_dataset("synthetic", {{"size", 8}}, request("", true, 100, 3)).images.slice(0, 0, 64)));
  // The class templates are shared: a nearest-class-mean classifier from the training part
  // labels the test part far above chance.
  std::vector<torch::Tensor> means;
  for (int64_t k = 0; k < train.num_classes; ++k) means.push_back(train.images.index({train.labels == k}).mean(0).flatten());
  const auto centers = torch::stack(means);
  const auto predicted = torch::cdist(test.images.flatten(1), centers).argmin(1);
  CHECK(predicted.eq(test.labels).to(torch::kFloat64).mean().item<double>() > 0.8);
  REQUIRE_THROWS_WITH_ALL(ConfigError, load_dataset("synthetic", {}, request("", true, 0)), "number of samples");
  REQUIRE_THROWS_WITH_ALL(ConfigError, load_dataset("synthetic", {{"colour", 3}}, request("", true, 5)), "colour");
}

TEST_CASE("mnist reads IDX files, compressed or not, from any folder", "[data][registry]") {
  const auto dir = test::temp_dir("mnist_idx");
  std::vector<uint8_t> pixels(3 * 4 * 5), labels{2, 0, 1};
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 4);
  write_idx(dir + "/train-images-idx3-ubyte", 0x803, {3, 4, 5}, pixels);
  write_idx(dir + "/train-labels-idx1-ubyte", 0x801, {3}, labels);
  const auto d = load_dataset("mnist", {{"normalize", false}, {"classes", 3}}, request(dir, true, 0));
  REQUIRE(d.images.sizes() == torch::IntArrayRef({3, 1, 4, 5}));
  CHECK(d.num_classes == 3);
  CHECK(d.labels[0].item<int64_t>() == 2);
  CHECK(std::lround(d.images[2][0][3][4].item<float>() * 255) == (2 * 20 + 19) * 4);
  CHECK(d.name == "mnist/train");
  REQUIRE_THROWS_WITH_ALL(DataError, load_dataset("mnist", {{"classes", 2}}, request(dir, true, 0)), "label 2",
                          "train-labels-idx1-ubyte", "0..1");
  REQUIRE_THROWS_WITH_ALL(DataError, load_dataset("mnist", {}, request(dir, false, 0)), "t10k-images-idx3-ubyte",
                          "--data-dir");
  REQUIRE_THROWS_WITH_ALL(ConfigError, load_dataset("mnist", {}, request("", true, 0)), "needs --data-dir");
}

TEST_CASE("A registered dataset loads by name and is checked", "[data][registry]") {
  register_dataset("test-ramp", "A ramp", {[](const nlohmann::json& config, const DataRequest& q) {
                     const int64_t n = q.limit() > 0 ? q.limit() : 6;
                     const int64_t bad = config.value("bad_label", 0);
                     return Dataset{torch::arange(n * 4, torch::kFloat32).view({n, 1, 2, 2}),
                                    torch::arange(n, torch::kLong).remainder(2) + bad, 2, "ramp"};
                   }});
  const auto d = load_dataset("test-ramp", {}, request("", true, 4));
  CHECK(d.size() == 4);
  REQUIRE_THROWS_WITH_ALL(DataError, load_dataset("test-ramp", {{"bad_label", 1}}, request("", true, 4)), "test-ramp",
                          "labels 1..2", "2 classes");
  REQUIRE_THROWS_WITH_ALL(ConfigError, register_dataset("test-ramp", "again", {[](const nlohmann::json&, const DataRequest&) { return Dataset{}; }}),
                          "already registered");
}
