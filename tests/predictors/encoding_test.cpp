#include <catch2/catch.hpp>

#include <cmath>

#include <nlohmann/json.hpp>

#include "hwnas/core/random.h"
#include "hwnas/core/search_space.h"
#include "hwnas/cost/analytic.h"
#include "hwnas/predictors/encoding.h"
#include "hwnas/predictors/predictor.h"
#include "hwnas/search_spaces/registry.h"
#include "test_util.h"

using namespace hwnas;
using predictors::encode_archs;

namespace {

std::vector<int64_t> ones(const predictors::Features& x, int64_t row = 0) {
  std::vector<int64_t> at;
  for (int64_t j = 0; j < x.cols; ++j)
    if (x.row(row)[j] != 0) at.push_back(j);
  return at;
}

}  // namespace

TEST_CASE("nb201 path encoding: NASLib's layout, one slot per operation sequence", "[predictors][encoding]") {
  auto space = make_space("nb201");
  // Ops are numbered as the space's options: none 0, skip_connect 1, nor_conv_1x1 2, nor_conv_3x3 3, avg_pool_3x3 4.
  const auto conv = space->parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|");
  const auto x = encode_archs(*space, {conv}, "path");
  REQUIRE(x.cols == 5 + 25 + 125);
  // The 1-edge path at 3; both 2-edge paths at 5 + 3 + 3*5; the 3-edge path at 30 + 3 + 15 + 75.
  REQUIRE(ones(x) == std::vector<int64_t>{3, 23, 123});
  // Only the direct edge is skip; everything else none: paths (1), (none, none) twice, (none, none, none).
  const auto skip = space->parse("|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|");
  REQUIRE(ones(encode_archs(*space, {skip}, "path")) == std::vector<int64_t>{1, 5, 30});
  // The 2-edge paths are 0->1->3 (edges 1<-0, 3<-1) and 0->2->3 (edges 2<-0, 3<-2), the 3-edge one
  // 1<-0, 2<-1, 3<-2; the first op is the lowest digit.
  const auto mixed = space->parse("|nor_conv_1x1~0|+|none~0|none~1|+|none~0|avg_pool_3x3~1|none~2|");
  REQUIRE(ones(encode_archs(*space, {mixed}, "path")) == std::vector<int64_t>{0, 5, 5 + 2 + 4 * 5, 30 + 2});
}

TEST_CASE("Graph encodings: the cell as a DAG with operations on nodes", "[predictors][encoding]") {
  auto nb201 = make_space("nb201");
  Rng rng(4);
  const auto a = nb201->sample(rng);
  const auto g = encode_archs(*nb201, {a}, "graph");
  const int64_t n = 8, types = 7;
  REQUIRE(g.cols == n * n + n * types);
  auto adj = [&](const predictors::Features& x, int64_t base, int64_t nodes, int64_t i, int64_t j) {
    return x.row(0)[base + i * nodes + j];
  };
  int64_t input_out = 0, output_in = 0, edges = 0;
  for (int64_t j = 0; j < n; ++j) input_out += static_cast<int64_t>(adj(g, 0, n, 0, j));
  for (int64_t i = 0; i < n; ++i) output_in += static_cast<int64_t>(adj(g, 0, n, i, n - 1));
  for (int64_t k = 0; k < n * n; ++k) edges += static_cast<int64_t>(g.row(0)[k]);
  REQUIRE(input_out == 3);  // edges 1<-0, 2<-0, 3<-0
  REQUIRE(output_in == 3);  // edges 3<-0, 3<-1, 3<-2
  // 3 + 3 + (1<-0 feeds 2<-1 and 3<-1; 2<-0 and 2<-1 feed 3<-2) = 10.
  REQUIRE(edges == 10);
  for (int64_t node = 1; node <= 6; ++node)
    REQUIRE(g.row(0)[n * n + node * types + a.genes()[static_cast<size_t>(node - 1)] + 2] == 1.0f);

  auto darts = make_space("darts");
  const auto d = encode_archs(*darts, {darts->sample(rng)}, "graph");
  const int64_t dn = 11, dtypes = 10, cell = dn * dn + dn * dtypes;
  REQUIRE(d.cols == 2 * cell);
  for (int64_t c = 0; c < 2; ++c)
    for (int64_t op = 2; op < 10; ++op) {
      int64_t in = 0;
      for (int64_t i = 0; i < dn; ++i) in += static_cast<int64_t>(adj(d, c * cell, dn, i, op));
      REQUIRE((in == 1 || in == 2));                   // a cell input, or both ops of an earlier node
      REQUIRE(adj(d, c * cell, dn, op, dn - 1) == 1.0f);  // every node is concatenated into the output
    }
  REQUIRE_THROWS_WITH_ALL(ConfigError, encode_archs(*make_space("ofa"), {}, "graph"), "'graph'", "nb201 and darts", "not 'ofa'");
}

TEST_CASE("Stage summaries of chain spaces and cost features", "[predictors][encoding]") {
  auto ofa = make_space("ofa");
  const auto a = ofa->from_json(test::ofa_tutorial_subnet());
  const auto s = encode_archs(*ofa, {a}, "stages");
  REQUIRE(s.cols == 3 * 5 + 1);
  for (int st = 0; st < 5; ++st) {
    const double depth = std::stod(ofa->choices()[40 + st].options[static_cast<size_t>(a.genes()[40 + st])]);
    REQUIRE(s.row(0)[3 * st] == Approx(depth / 4));
    REQUIRE(s.row(0)[3 * st + 1] > 0);
  }
  REQUIRE(s.row(0)[15] == Approx(static_cast<double>(ofa->input_shape_of(a).h) / 224));
  auto mobile = make_space("mobilenet");
  Rng rng(2);
  const auto m = mobile->sample(rng);
  REQUIRE(encode_archs(*mobile, {m}, "stages").cols > 3);

  const auto both = encode_archs(*ofa, {a}, "onehot+cost");
  REQUIRE(both.cols == ofa->encoding_size() + 2);
  const auto c = cost::network_cost(ofa->layers(a));
  REQUIRE(both.row(0)[both.cols - 2] == Approx(std::log10(static_cast<double>(c.params)) / 10));
  REQUIRE(both.row(0)[both.cols - 1] == Approx(std::log10(static_cast<double>(c.macs)) / 10));
  const auto onehot = ofa->encode(a);
  REQUIRE(std::equal(onehot.begin(), onehot.end(), both.row(0)));
}

TEST_CASE("A predictor on another encoding saves it, predicts the same after load, and checks it", "[predictors][encoding]") {
  auto space = make_space("nb201");
  Rng rng(9);
  std::vector<Arch> archs;
  std::vector<double> y;
  for (int i = 0; i < 30; ++i) {
    archs.push_back(space->sample(rng));
    y.push_back(cost::network_cost(space->layers(archs.back())).params * 1e-5);
  }
  auto p = predictors::make_predictor("ridge", {{"encoding", "path+cost"}});
  REQUIRE(p->encoding_kind() == "path+cost");
  p->fit(*space, archs, y);
  REQUIRE(p->encoding().kind == "path+cost");
  REQUIRE(p->encoding().size == 157);
  REQUIRE(p->encoding() != predictors::EncodingInfo::of(*space));
  const auto path = test::temp_dir("encoding") + "/ridge_path.json";
  p->save(path);
  const auto loaded = predictors::load_predictor(path);
  REQUIRE(loaded->encoding_kind() == "path+cost");
  REQUIRE(loaded->predict(*space, archs).mean == p->predict(*space, archs).mean);
  // Features of another encoding are refused by size.
  REQUIRE_THROWS_WITH_ALL(DataError, p->predict(encode_archs(*space, archs)), "expects 157 features");
  // The one-hot default writes no kind: files saved before encodings existed are unchanged.
  auto plain = predictors::make_predictor("ridge");
  plain->fit(*space, archs, y);
  REQUIRE_FALSE(plain->to_json()["encoding"].contains("kind"));
  REQUIRE_THROWS_WITH_ALL(ConfigError, predictors::make_predictor("ridge", {{"encoding", "paths"}}), "'paths'", "path");
  REQUIRE_THROWS_WITH_ALL(ConfigError, predictors::make_predictor("ridge")->set_encoding_kind("path+"), "''");
}
