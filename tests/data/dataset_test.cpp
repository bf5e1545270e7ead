#include <catch2/catch.hpp>

#include <map>
#include <vector>

#include <torch/torch.h>

#include "hwnas/data/dataset.h"
#include "test_util.h"

using hwnas::data::Dataset;

namespace {

// 100 samples sorted by class (as an image folder is): 60 of class 0, 30 of 1, 10 of 2;
// sample i holds the value i.
Dataset sorted_by_class() {
  std::vector<int64_t> labels;
  for (int i = 0; i < 100; ++i) labels.push_back(i < 60 ? 0 : i < 90 ? 1 : 2);
  return Dataset(torch::arange(100, torch::kFloat32).view({100, 1, 1, 1}), torch::tensor(labels), 3, "sorted");
}

std::map<int64_t, int64_t> counts(const Dataset& d) {
  std::map<int64_t, int64_t> c;
  for (int64_t i = 0; i < d.size(); ++i) ++c[d.labels[i].item<int64_t>()];
  return c;
}

}  // namespace

TEST_CASE("A stratified split gives every class its share of both parts, seeded and disjoint", "[data]") {
  const auto d = sorted_by_class();
  const auto [train, valid] = hwnas::data::stratified_split(d, 50, 20, 5);
  CHECK(counts(valid) == std::map<int64_t, int64_t>{{0, 12}, {1, 6}, {2, 2}});
  CHECK(counts(train) == std::map<int64_t, int64_t>{{0, 30}, {1, 15}, {2, 5}});
  // Disjoint, each in the dataset's order.
  std::vector<int64_t> seen;
  for (const auto* part : {&train, &valid}) {
    for (int64_t i = 0; i < part->size(); ++i) {
      seen.push_back(static_cast<int64_t>(part->images[i][0][0][0].item<float>()));
      if (i > 0) CHECK(part->images[i][0][0][0].item<float>() > part->images[i - 1][0][0][0].item<float>());
    }
  }
  std::sort(seen.begin(), seen.end());
  CHECK(std::adjacent_find(seen.begin(), seen.end()) == seen.end());
  // The same seed, the same parts; another seed, others.
  const auto again = hwnas::data::stratified_split(d, 50, 20, 5);
  CHECK(torch::equal(again.second.images, valid.images));
  CHECK_FALSE(torch::equal(hwnas::data::stratified_split(d, 50, 20, 6).second.images, valid.images));
  // train_size 0: the rest.
  CHECK(hwnas::data::stratified_split(d, 0, 20, 5).first.size() == 80);
  // Largest remainders: 7 of (60, 30, 10) is 4.2, 2.1, 0.7: 4, 2, then the largest remainder (class 2).
  CHECK(counts(hwnas::data::stratified_split(d, 0, 7, 1).second) == std::map<int64_t, int64_t>{{0, 4}, {1, 2}, {2, 1}});
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, hwnas::data::stratified_split(d, 90, 20, 5), "110", "smaller sizes");
}
