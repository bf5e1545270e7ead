#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include <nlohmann/json.hpp>

#include "hwnas/core/drawing.h"
#include "hwnas/core/search_space.h"
#include "hwnas/search_spaces/registry.h"
#include "test_util.h"

using namespace hwnas;

TEST_CASE("Cell spaces draw DAGs whose edges are the arch's operations", "[core][drawing]") {
  auto nb201 = make_space("nb201");
  const auto arch = nb201->parse("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|none~1|nor_conv_1x1~2|");
  const auto d = nb201->drawing(arch);
  CHECK(d.kind == "cells");
  CHECK(d.title == arch.str());
  REQUIRE(d.graphs.size() == 1);
  REQUIRE(d.graphs[0].nodes.size() == 4);
  // Six edges, two of them "none": four drawn, each (from, to, op) as the arch string says.
  REQUIRE(d.graphs[0].edges.size() == 4);
  CHECK(d.graphs[0].edges[0].from == "0");
  CHECK(d.graphs[0].edges[0].to == "1");
  CHECK(d.graphs[0].edges[0].label == "nor_conv_3x3");
  CHECK(d.graphs[0].edges[1].from == "1");
  CHECK(d.graphs[0].edges[1].to == "2");
  CHECK(d.graphs[0].edges[1].label == "skip_connect");
  CHECK(d.graphs[0].edges[3].from == "2");
  CHECK(d.graphs[0].edges[3].label == "nor_conv_1x1");
  const auto dot = d.to_dot();
  CHECK(dot.rfind("digraph arch {", 0) == 0);
  CHECK(dot.find("\"g0_0\" -> \"g0_1\" [label=\"nor_conv_3x3\"]") != std::string::npos);
  CHECK(dot.find("label=\"none\"") == std::string::npos);

  auto darts = make_space("darts");
  Rng rng(3);
  const auto a = darts->sample(rng);
  const auto j = darts->drawing(a).to_json();
  REQUIRE(j["graphs"].size() == 2);
  for (const auto& g : j["graphs"]) {
    CHECK(g["nodes"].size() == 7);  // c_{k-2}, c_{k-1}, four nodes, c_{k}
    CHECK(g["edges"].size() == 12);  // two operations per node and the concatenation
  }
  CHECK(j["graphs"][0]["name"] == "normal");
  CHECK(j["graphs"][1]["name"] == "reduce");
}

TEST_CASE("Chain spaces draw their active blocks in order, others a table of choices", "[core][drawing]") {
  auto ofa = make_space("ofa");
  Rng rng(1);
  const auto arch = ofa->sample(rng);
  const auto d = ofa->drawing(arch);
  CHECK(d.kind == "chain");
  int64_t depth = 0;
  for (int s = 0; s < 5; ++s) depth += std::stoll(ofa->choices()[static_cast<size_t>(40 + s)].options[static_cast<size_t>(arch.genes()[static_cast<size_t>(40 + s)])]);
  REQUIRE(d.graphs.size() == 1);
  CHECK(static_cast<int64_t>(d.graphs[0].nodes.size()) == depth + 2);  // stem, blocks, head
  CHECK(d.graphs[0].edges.size() == d.graphs[0].nodes.size() - 1);

  auto mobilenet = make_space("mobilenet");
  const auto m = mobilenet->drawing(mobilenet->sample(rng));
  CHECK(m.graphs[0].nodes.size() == mobilenet->choices().size() + 2);

  // A space without its own drawing: one row per choice.
  struct Plain : SearchSpace {
    std::vector<Choice> cs{{"width", {"8", "16"}}, {"kernel", {"3", "5"}}};
    std::string name() const override { return "plain"; }
    std::string description() const override { return ""; }
    nlohmann::json config() const override { return nlohmann::json::object(); }
    const std::vector<Choice>& choices() const override { return cs; }
    Shape input_shape() const override { return {1, 8, 8}; }
    std::string genes_to_string(const std::vector<int>& g) const override {
      return cs[0].options[static_cast<size_t>(g[0])] + "-" + cs[1].options[static_cast<size_t>(g[1])];
    }
    std::vector<int> parse_genes(const std::string& s) const override { return {s[0] == '1', s.back() == '5'}; }
    std::vector<LayerSpec> do_layers(const std::vector<int>&, const Shape&) const override { return {}; }
    std::shared_ptr<nn::Network> do_build(const std::vector<int>&, const BuildOptions&) const override { return nullptr; }
  } plain;
  const auto t = plain.drawing(plain.make({1, 0}));
  CHECK(t.kind == "table");
  REQUIRE(t.rows.size() == 2);
  CHECK(t.rows[0] == std::make_pair(std::string("width"), std::string("16")));
  CHECK(t.to_dot().find("<td>kernel</td><td>3</td>") != std::string::npos);
  REQUIRE_THROWS_AS(plain.drawing(ofa->sample(rng)), InvalidArchError);
}
