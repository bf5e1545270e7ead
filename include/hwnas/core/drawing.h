#pragma once
// Drawing: what an arch looks like, for plots and reports. Each space says how its archs
// are drawn (SearchSpace::drawing): cell spaces as DAGs of operations, chain spaces as a
// sequence of blocks, and any other space as a table of its choices (the default).
//
//   auto d = space.drawing(arch);
//   std::cout << d.to_dot();   // Graphviz: dot -Tsvg cell.dot > cell.svg
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace hwnas {

struct Drawing {
  struct Node {
    std::string id, label;
  };
  struct Edge {
    std::string from, to, label;
  };
  struct Graph {
    std::string name;
    std::vector<Node> nodes;
    std::vector<Edge> edges;
  };
  /// "cells" (DAGs whose edges are operations), "chain" (blocks in order) or "table".
  std::string kind = "table";
  std::string title;  // e.g. the arch string
  std::vector<Graph> graphs;  // cells: one per cell; chain: one
  std::vector<std::pair<std::string, std::string>> rows;  // table: choice -> option

  nlohmann::json to_json() const;
  /// Graphviz DOT: one cluster per graph (left to right), a table as an HTML-like label.
  std::string to_dot() const;
};

}  // namespace hwnas
