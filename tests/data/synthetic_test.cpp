#include <catch2/catch.hpp>

#include <torch/torch.h>

#include "hwnas/data/dataset.h"
#include "hwnas/data/synthetic.h"
#include "test_util.h"

using hwnas::data::make_synthetic;
using hwnas::data::SyntheticOptions;

TEST_CASE("Synthetic data is seeded and shaped as asked", "[data][synthetic]") {
  auto a = make_synthetic(SyntheticOptions().samples(64).channels(3).size(8).classes(4).seed(1));
  auto b = make_synthetic(SyntheticOptions().samples(64).channels(3).size(8).classes(4).seed(1));
  auto c = make_synthetic(SyntheticOptions().samples(64).channels(3).size(8).classes(4).seed(2));
  REQUIRE(a.images.sizes() == torch::IntArrayRef({64, 3, 8, 8}));
  REQUIRE(a.num_classes == 4);
  REQUIRE(torch::equal(a.images, b.images));
  REQUIRE(torch::equal(a.labels, b.labels));
  REQUIRE_FALSE(torch::equal(a.images, c.images));
  REQUIRE(a.labels.max().item<int64_t>() < 4);
  REQUIRE_THROWS_AS(make_synthetic(SyntheticOptions().classes(1)), hwnas::ConfigError);
}

TEST_CASE("Batches cover the dataset once, shuffled with a seed", "[data][dataset]") {
  auto d = make_synthetic(SyntheticOptions().samples(50).size(4));
  auto plain = hwnas::data::batches(d, 16);
  REQUIRE(plain.size() == 4);
  REQUIRE(plain.back().images.size(0) == 2);
  hwnas::Rng r1(3), r2(3);
  auto s1 = hwnas::data::batches(d, 16, &r1), s2 = hwnas::data::batches(d, 16, &r2);
  int64_t total = 0;
  for (size_t i = 0; i < s1.size(); ++i) {
    REQUIRE(torch::equal(s1[i].labels, s2[i].labels));
    total += s1[i].labels.size(0);
  }
  REQUIRE(total == 50);
  auto all = torch::cat({s1[0].labels, s1[1].labels, s1[2].labels, s1[3].labels});
  REQUIRE(torch::equal(std::get<0>(all.sort()), std::get<0>(d.labels.sort())));
  REQUIRE_THROWS_AS(hwnas::data::batches(d, 0), hwnas::ConfigError);
}
