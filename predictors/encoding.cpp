#include "hwnas/predictors/encoding.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include <fmt/format.h>

#include "hwnas/core/error.h"
#include "hwnas/core/search_space.h"
#include "hwnas/cost/analytic.h"
#include "hwnas/search_spaces/darts/darts.h"
#include "hwnas/search_spaces/nb201/nb201.h"
#include "hwnas/search_spaces/ofa/ofa.h"

namespace hwnas::predictors {
namespace {

class OneHot : public Encoding {
 public:
  int64_t size(const SearchSpace& space) const override { return space.encoding_size(); }
  void encode(const SearchSpace& space, const Arch& arch, float* out) const override {
    const auto v = space.encode(arch);
    std::copy(v.begin(), v.end(), out);
  }
};

std::string only_for(const SearchSpace& space, const std::string& kind, const std::vector<std::string>& spaces) {
  if (std::find(spaces.begin(), spaces.end(), space.name()) != spaces.end()) return "";
  return fmt::format("the '{}' encoding is for the {} space{}, not '{}'", kind, fmt::join(spaces, " and "),
                     spaces.size() > 1 ? "s" : "", space.name());
}

// nb201's cell: node 0 is the input, node 3 the output, each gene the operation of one edge
// (Nb201Space::kEdges). Operations are numbered as the space's options.
constexpr int kNb201Output = 3;
int64_t nb201_ops(const SearchSpace& space) { return static_cast<int64_t>(space.choices()[0].options.size()); }

// Every input-to-output path as its list of edges (gene indices), in order of length.
std::vector<std::vector<int>> nb201_paths() {
  std::vector<std::vector<int>> done, open{{}};
  std::vector<int> end_node{0};
  while (!open.empty()) {
    std::vector<std::vector<int>> next_open;
    std::vector<int> next_end;
    for (size_t p = 0; p < open.size(); ++p)
      for (size_t e = 0; e < spaces::Nb201Space::kEdges.size(); ++e) {
        const auto [to, from] = spaces::Nb201Space::kEdges[e];
        if (from != end_node[p]) continue;
        auto path = open[p];
        path.push_back(static_cast<int>(e));
        if (to == kNb201Output) {
          done.push_back(path);
        } else {
          next_open.push_back(path);
          next_end.push_back(to);
        }
      }
    open = std::move(next_open);
    end_node = std::move(next_end);
  }
  std::stable_sort(done.begin(), done.end(), [](const auto& a, const auto& b) { return a.size() < b.size(); });
  return done;
}

// BANANAS' path encoding as NASLib lays it out for NAS-Bench-201: one slot per sequence of
// operations of each length (V + V^2 + V^3 for V operations), set when a path has it.
class Nb201Path : public Encoding {
 public:
  std::string unsupported(const SearchSpace& space) const override { return only_for(space, "path", {"nb201"}); }
  int64_t size(const SearchSpace& space) const override {
    const int64_t v = nb201_ops(space);
    return v + v * v + v * v * v;
  }
  void encode(const SearchSpace& space, const Arch& arch, float* out) const override {
    static const auto paths = nb201_paths();
    const int64_t v = nb201_ops(space);
    std::fill(out, out + size(space), 0.0f);
    for (const auto& path : paths) {
      int64_t offset = 0, power = v;
      for (size_t len = 1; len < path.size(); ++len, power *= v) offset += power;
      int64_t index = 0, scale = 1;
      for (int e : path) {
        index += arch.genes()[static_cast<size_t>(e)] * scale;
        scale *= v;
      }
      out[offset + index] = 1.0f;
    }
  }
};

// Writes a DAG with operations on nodes: `nodes` x `nodes` adjacency (row = from), then a
// one-hot type per node.
void write_graph(float* out, int64_t nodes, int64_t types, const std::vector<std::pair<int, int>>& edges,
                 const std::vector<int>& type) {
  std::fill(out, out + nodes * nodes + nodes * types, 0.0f);
  for (const auto& [from, to] : edges) out[from * nodes + to] = 1.0f;
  for (int64_t n = 0; n < nodes; ++n) out[nodes * nodes + n * types + type[static_cast<size_t>(n)]] = 1.0f;
}

// nb201 as a graph: node 0 the input, 1..6 one per edge's operation, 7 the output; types
// input, output, then the operations.
class Nb201Graph : public Encoding {
 public:
  std::string unsupported(const SearchSpace& space) const override { return only_for(space, "graph", {"nb201", "darts"}); }
  int64_t size(const SearchSpace& space) const override { return graph_layout(space).size(); }
  GraphLayout graph_layout(const SearchSpace& space) const override { return {1, 8, nb201_ops(space) + 2}; }
  void encode(const SearchSpace& space, const Arch& arch, float* out) const override {
    const auto& edges = spaces::Nb201Space::kEdges;
    const int output = static_cast<int>(edges.size()) + 1;
    std::vector<std::pair<int, int>> links;
    std::vector<int> type{0};
    for (size_t e = 0; e < edges.size(); ++e) {
      const auto [to, from] = edges[e];
      const int node = static_cast<int>(e) + 1;
      type.push_back(arch.genes()[e] + 2);
      if (from == 0) links.emplace_back(0, node);
      if (to == kNb201Output) links.emplace_back(node, output);
      for (size_t f = 0; f < edges.size(); ++f)
        if (edges[f].second == to) links.emplace_back(node, static_cast<int>(f) + 1);
    }
    type.push_back(1);
    write_graph(out, output + 1, nb201_ops(space) + 2, links, type);
  }
};

// A DARTS cell as a graph: nodes 0, 1 the cell inputs, 2..9 the operations of the four
// nodes' two inputs, 10 the output (the concatenation of the four nodes); types input,
// output, then the operations. The normal cell, then the reduction cell.
class DartsGraph : public Encoding {
 public:
  static constexpr int kNodes = 2 + 2 * spaces::DartsSpace::kNodes + 1;
  static int64_t types() { return static_cast<int64_t>(spaces::DartsSpace::kOps.size()) + 2; }
  int64_t size(const SearchSpace& space) const override { return graph_layout(space).size(); }
  GraphLayout graph_layout(const SearchSpace&) const override { return {2, kNodes, types()}; }
  void encode(const SearchSpace& space, const Arch& arch, float* out) const override {
    const auto& genes = arch.genes();
    for (int c = 0; c < 2; ++c) {
      std::vector<std::pair<int, int>> links;
      std::vector<int> type{0, 0};
      const int output = kNodes - 1;
      for (int k = 0; k < 2 * spaces::DartsSpace::kNodes; ++k) {
        // The space's genes: per cell, per node, per input slot, (op, input).
        const auto at = static_cast<size_t>(c * 4 * spaces::DartsSpace::kNodes + 2 * k);
        const int node = 2 + k, input = genes[at + 1];
        type.push_back(genes[at] + 2);
        if (input < 2) {
          links.emplace_back(input, node);
        } else {  // the sum of node input - 2's two operations
          links.emplace_back(2 + 2 * (input - 2), node);
          links.emplace_back(3 + 2 * (input - 2), node);
        }
        links.emplace_back(node, output);
      }
      type.push_back(1);
      write_graph(out + c * (kNodes * kNodes + kNodes * types()), kNodes, types(), links, type);
    }
  }
};

class Graph : public Encoding {
 public:
  std::string unsupported(const SearchSpace& space) const override { return nb201_.unsupported(space); }
  int64_t size(const SearchSpace& space) const override { return pick(space).size(space); }
  void encode(const SearchSpace& space, const Arch& arch, float* out) const override { pick(space).encode(space, arch, out); }
  GraphLayout graph_layout(const SearchSpace& space) const override { return pick(space).graph_layout(space); }

 private:
  const Encoding& pick(const SearchSpace& space) const {
    if (space.name() == "darts") return darts_;
    return nb201_;
  }
  Nb201Graph nb201_;
  DartsGraph darts_;
};

// Chains (mobilenet, ofa): per stage the number of active blocks, their mean kernel and
// mean expand ratio (mid / in channels), from the arch's "mbconv" layers named s<S>b<B>;
// then the input resolution. Scaled by 1/4, 1/7, 1/6 and 1/224 to about [0, 1].
class Stages : public Encoding {
 public:
  std::string unsupported(const SearchSpace& space) const override { return only_for(space, "stages", {"mobilenet", "ofa"}); }
  int64_t size(const SearchSpace& space) const override { return 3 * stages(space) + 1; }
  void encode(const SearchSpace& space, const Arch& arch, float* out) const override {
    const int64_t n = stages(space);
    std::vector<double> depth(static_cast<size_t>(n)), kernel(depth), expand(depth);
    const auto layers = space.layers(arch);
    for (const auto& l : layers) {
      int s = 0, b = 0;
      if (l.kind != "mbconv" || std::sscanf(l.name.c_str(), "s%db%d", &s, &b) != 2 || s < 1 || s > n) continue;
      const auto i = static_cast<size_t>(s - 1);
      depth[i] += 1;
      kernel[i] += static_cast<double>(l.attr("k"));
      expand[i] += static_cast<double>(l.attr("mid")) / static_cast<double>(l.input.c);
    }
    for (size_t i = 0; i < depth.size(); ++i) {
      const double d = std::max(depth[i], 1.0);
      out[3 * i] = static_cast<float>(depth[i] / 4);
      out[3 * i + 1] = static_cast<float>(kernel[i] / d / 7);
      out[3 * i + 2] = static_cast<float>(expand[i] / d / 6);
    }
    out[3 * n] = static_cast<float>(static_cast<double>(layers.at(0).input.h) / 224);
  }

 private:
  // ofa: its stages; mobilenet: the largest S of its choices named s<S>b<B>.
  static int64_t stages(const SearchSpace& space) {
    if (space.name() == "ofa") return spaces::OfaSpace::kStages;
    int64_t n = 0;
    for (const auto& c : space.choices()) {
      int s = 0, b = 0;
      if (std::sscanf(c.name.c_str(), "s%db%d", &s, &b) == 2) n = std::max<int64_t>(n, s);
    }
    return n;
  }
};

// log10 of the parameters and the MACs (hwnas/cost/analytic.h), divided by 10.
class CostFeatures : public Encoding {
 public:
  int64_t size(const SearchSpace&) const override { return 2; }
  void encode(const SearchSpace& space, const Arch& arch, float* out) const override {
    const auto c = cost::network_cost(space.layers(arch));
    out[0] = static_cast<float>(std::log10(std::max<double>(1, static_cast<double>(c.params))) / 10);
    out[1] = static_cast<float>(std::log10(std::max<double>(1, static_cast<double>(c.macs))) / 10);
  }
};

std::vector<std::string> split_kind(const std::string& kind) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const auto plus = kind.find('+', start);
    parts.push_back(kind.substr(start, plus == std::string::npos ? std::string::npos : plus - start));
    if (plus == std::string::npos) return parts;
    start = plus + 1;
  }
}

}  // namespace

EncodingRegistry& encoding_registry() {
  static EncodingRegistry* registry = [] {
    auto* r = new EncodingRegistry("encoding");
    r->add("onehot", "Every space: the space's own encoding (one-hot of each choice)",
           [](const nlohmann::json&) { return std::make_unique<OneHot>(); });
    r->add("path", "nb201: input-to-output paths as operation sequences (BANANAS, NASLib layout)",
           [](const nlohmann::json&) { return std::make_unique<Nb201Path>(); });
    r->add("graph", "nb201, darts: the cell as a DAG with operations on nodes (adjacency + one-hot ops)",
           [](const nlohmann::json&) { return std::make_unique<Graph>(); });
    r->add("stages", "mobilenet, ofa: per stage depth, mean kernel, mean expand ratio; the resolution",
           [](const nlohmann::json&) { return std::make_unique<Stages>(); });
    r->add("cost", "Every space: log10 of params and MACs (analytic cost model)",
           [](const nlohmann::json&) { return std::make_unique<CostFeatures>(); });
    return r;
  }();
  return *registry;
}

void check_encoding_kind(const std::string& kind) {
  for (const auto& part : split_kind(kind))
    HWNAS_CHECK_T(ConfigError, encoding_registry().contains(part), "Unknown encoding '", part, "'",
                  part == kind ? "" : " in '" + kind + "'", "; use one of ",
                  fmt::format("{}", fmt::join(encoding_registry().names(), ", ")), ", or several joined by '+'");
}

std::vector<std::shared_ptr<const Encoding>> encodings_for(const SearchSpace& space, const std::string& kind) {
  check_encoding_kind(kind);
  std::vector<std::shared_ptr<const Encoding>> out;
  for (const auto& part : split_kind(kind)) {
    std::shared_ptr<const Encoding> e = encoding_registry().create(part);
    const auto why = e->unsupported(space);
    HWNAS_CHECK_T(ConfigError, why.empty(), "Encoding '", kind, "': ", why, "; use \"onehot\" (every space)");
    out.push_back(std::move(e));
  }
  return out;
}

int64_t encoding_size(const SearchSpace& space, const std::string& kind) { return encoding_shape(space, kind).size; }

EncodingShape encoding_shape(const SearchSpace& space, const std::string& kind) {
  EncodingShape shape;
  for (const auto& e : encodings_for(space, kind)) {
    const auto layout = e->graph_layout(space);
    if (layout.cells > 0 && shape.graph_offset < 0) {
      shape.graph_offset = shape.size;
      shape.graph = layout;
    }
    shape.size += e->size(space);
  }
  return shape;
}

}  // namespace hwnas::predictors
