#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "hwnas/core/io.h"
#include "hwnas/core/random.h"
#include "hwnas/core/search_space.h"
#include "hwnas/core/stats.h"
#include "hwnas/predictors/encoding.h"
#include "hwnas/predictors/predictor.h"
#include "hwnas/search_spaces/registry.h"
#include "test_util.h"

using namespace hwnas;
using predictors::make_predictor;

namespace {

const nlohmann::json kFast = {{"hidden", 24}, {"linear_hidden", 24}, {"epochs", 40}, {"batch_size", 16}, {"lr", 3e-3}};

nlohmann::json fast(nlohmann::json extra) {
  auto c = kFast;
  c.update(extra);
  return c;
}

// A score per operation summed over the nodes of both DARTS cells (the reduction cell's
// counting double), plus one for every node fed by a cell input directly: a target of the
// graph's nodes and edges.
double darts_target(const SearchSpace& space, const Arch& a) {
  const auto x = predictors::encode_archs(space, {a}, "graph");
  const auto layout = predictors::EncodingInfo::of(space, "graph").graph;
  const int64_t n = layout.nodes, t = layout.types;
  double y = 0;
  for (int64_t c = 0; c < layout.cells; ++c) {
    const float* cell = x.row(0) + c * layout.cell_size();
    for (int64_t node = 0; node < n; ++node)
      for (int64_t k = 0; k < t; ++k) y += cell[n * n + node * t + k] * 0.3 * static_cast<double>(k) * static_cast<double>(1 + c);
    for (int64_t to = 2; to < n; ++to) y += 0.5 * (cell[0 * n + to] + cell[1 * n + to]);
  }
  return y;
}

// Per-edge operation scores of an nb201 cell, the later edges weighing more.
double nb201_target(const Arch& a) {
  static const double score[5] = {0.0, 0.3, 1.0, 0.6, 0.2};
  double y = 0;
  for (size_t e = 0; e < a.genes().size(); ++e) y += score[a.genes()[e]] * (1 + 0.2 * static_cast<double>(e));
  return y;
}

}  // namespace

TEST_CASE("EncodingInfo records where the cell graphs are and their layout", "[predictors][encoding][gcn]") {
  auto nb201 = make_space("nb201");
  auto darts = make_space("darts");
  const auto one = predictors::EncodingInfo::of(*nb201, "cost+graph");
  REQUIRE(one.graph_offset == 2);
  REQUIRE(one.graph.cells == 1);
  REQUIRE(one.graph.nodes == 8);
  REQUIRE(one.graph.types == 7);  // input, output, the 5 operations
  REQUIRE(one.size == 2 + 8 * 8 + 8 * 7);
  const auto two = predictors::EncodingInfo::of(*darts, "graph");
  REQUIRE(two.graph_offset == 0);
  REQUIRE(two.graph.cells == 2);
  REQUIRE(two.graph.nodes == 11);
  REQUIRE(two.graph.types == 10);
  REQUIRE(predictors::EncodingInfo::of(*nb201, "path").graph_offset == -1);
  REQUIRE_FALSE(predictors::EncodingInfo::of(*nb201).to_json().contains("graph"));

  const auto back = predictors::EncodingInfo::from_json(one.to_json());
  REQUIRE(back == one);
  REQUIRE(back.graph_offset == 2);
  REQUIRE(back.graph.size() == one.graph.size());
  auto bad = one.to_json();
  bad["graph"]["nodes"] = 9;  // 9 x 9 + 9 x 7 > the 122 features
  REQUIRE_THROWS_WITH_ALL(DataError, predictors::EncodingInfo::from_json(bad), "'encoding.graph'", "does not fit");
  bad["graph"] = {{"offset", 0}};
  REQUIRE_THROWS_WITH_ALL(DataError, predictors::EncodingInfo::from_json(bad), "'encoding.graph' must be");
  bad["graph"] = {{"offset", -1}, {"cells", 1}, {"nodes", 8}, {"types", 7}};
  REQUIRE_THROWS_WITH_ALL(DataError, predictors::EncodingInfo::from_json(bad), "does not fit");
}

TEST_CASE("GCN predictor: DARTS's two cells, extra features beside the graph, save and load", "[predictors][gcn]") {
  auto space = make_space("darts");
  Rng rng(3);
  std::vector<Arch> train, test;
  std::vector<double> y_train, y_test;
  for (int i = 0; i < 160; ++i) {
    const auto a = space->sample(rng);
    (i < 100 ? train : test).push_back(a);
    (i < 100 ? y_train : y_test).push_back(darts_target(*space, a));
  }
  auto p = make_predictor("gcn", fast({{"encoding", "graph+cost"}, {"epochs", 80}}));
  REQUIRE(p->encoding_kind() == "graph+cost");
  p->fit(*space, train, y_train);
  const auto pred = p->predict(*space, test).mean;
  const double tau = stats::kendall_tau(pred, y_test);
  INFO("Kendall tau " << tau);
  CHECK(tau > 0.5);
  // The head sees both cells' embeddings and the 2 cost features.
  const auto state = p->to_json()["state"];
  REQUIRE(state["fc1"]["shape"] == nlohmann::json({24, 2 * 24 + 2}));
  REQUIRE(state["layers"].size() == 3);
  REQUIRE(state["layers"][0]["forward"]["shape"] == nlohmann::json({10, 24}));

  const auto dir = test::temp_dir("gcn");
  p->save(dir + "/gcn.json");
  const auto back = predictors::load_predictor(dir + "/gcn.json");
  REQUIRE(back->name() == "gcn");
  REQUIRE(back->encoding().graph.cells == 2);
  const auto again = back->predict(*space, test).mean;
  for (size_t i = 0; i < test.size(); ++i) REQUIRE(again[i] == Approx(pred[i]).margin(1e-6));

  // A saved file whose encoding lost its graph, or whose weights have the wrong shape.
  auto doc = p->to_json();
  doc["encoding"].erase("graph");
  write_file_atomic(dir + "/nograph.json", doc.dump());
  REQUIRE_THROWS_WITH_ALL(DataError, predictors::load_predictor(dir + "/nograph.json"), "nograph.json", "no cell graph", "\"graph\"");
  doc = p->to_json();
  doc["state"]["fc1"]["shape"] = {24, 48};
  write_file_atomic(dir + "/shape.json", doc.dump());
  REQUIRE_THROWS_WITH_ALL(DataError, predictors::load_predictor(dir + "/shape.json"), "fc1 has shape [24, 48], expected [24, 50]");
}

TEST_CASE("GCN predictor: the graph encoding by default, other kinds refused, a member of an ensemble", "[predictors][gcn]") {
  auto space = make_space("nb201");
  Rng rng(5);
  std::vector<Arch> archs;
  std::vector<double> y;
  for (int i = 0; i < 60; ++i) {
    archs.push_back(space->sample(rng));
    y.push_back(nb201_target(archs.back()));
  }
  REQUIRE(make_predictor("gcn")->encoding_kind() == "graph");
  REQUIRE_THROWS_WITH_ALL(ConfigError, make_predictor("gcn", fast({{"encoding", "path+cost"}}))->fit(*space, archs, y),
                          "'path+cost'", "no cell graph", "\"graph+cost\"");
  REQUIRE_THROWS_WITH_ALL(ConfigError, make_predictor("gcn", {{"layers", 0}}), "layers");
  REQUIRE_THROWS_WITH_ALL(ConfigError, make_predictor("gcn", {{"loss", "hinge"}}), "loss", "hinge");
  // A failed fit leaves an unfitted predictor without the rejected encoding.
  auto refused = make_predictor("gcn", fast({{"encoding", "onehot"}}));
  REQUIRE_THROWS(refused->fit(*space, archs, y));
  REQUIRE_FALSE(refused->fitted());
  REQUIRE(refused->encoding().size == 0);

  auto ensemble = make_predictor("ensemble", {{"predictor", "gcn"}, {"size", 2}, {"config", kFast}, {"encoding", "graph"}});
  ensemble->fit(*space, archs, y);
  const auto p = ensemble->predict(*space, archs);
  REQUIRE(p.has_std());
  CHECK(stats::kendall_tau(p.mean, y) > 0.5);
  for (const char* loss : {"pairwise", "mse+pairwise"}) {
    auto ranked = make_predictor("gcn", fast({{"loss", loss}}));
    ranked->fit(*space, archs, y);
    INFO(loss);
    CHECK(stats::kendall_tau(ranked->predict(*space, archs).mean, y) > 0.5);
  }
}
