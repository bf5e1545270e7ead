#include "hwnas/search_spaces/nb201/nb201.h"

#include <nlohmann/json.hpp>

#include "hwnas/core/error.h"
#include "hwnas/core/option_fields.h"
#include "hwnas/search_spaces/registry.h"

namespace hwnas::spaces {

const std::array<const char*, 5> Nb201Space::kOps = {"none", "skip_connect", "nor_conv_1x1",
                                                     "nor_conv_3x3", "avg_pool_3x3"};
const std::array<std::pair<int, int>, 6> Nb201Space::kEdges = {
    {{1, 0}, {2, 0}, {2, 1}, {3, 0}, {3, 1}, {3, 2}}};

namespace {
enum Op { kNone = 0, kSkip = 1, kConv1 = 2, kConv3 = 3, kPool = 4 };

std::string ops_list() {
  std::string s;
  for (const char* op : Nb201Space::kOps) s += (s.empty() ? "" : ", ") + std::string(op);
  return s;
}
}  // namespace

void Nb201Options::validate() const {
  options::check(*this, "nb201 space config");
  HWNAS_CHECK_T(ConfigError, input_size() % 4 == 0,
                "Expected 'input_size' of the nb201 space config to be divisible by 4 (two "
                "stride-2 reductions), but got ", input_size());
}

Nb201Options Nb201Options::from_json(const nlohmann::json& config) {
  auto o = options::read<Nb201Options>(config, "nb201 space config");
  o.validate();
  return o;
}

nlohmann::json Nb201Options::to_json() const { return options::write(*this); }

Nb201Space::Nb201Space(Nb201Options options) : options_(std::move(options)) {
  register_builtin_layer_kinds();  // so this space's layers are costed and profiled
  options_.validate();
  std::vector<std::string> ops(kOps.begin(), kOps.end());
  for (const auto& [to, from] : kEdges)
    choices_.push_back({"edge" + std::to_string(to) + "<-" + std::to_string(from), ops});
}

std::string Nb201Space::description() const {
  return "NAS-Bench-201 cell space (Dong & Yang 2020): 6 edges x 5 ops, 15625 archs";
}

nlohmann::json Nb201Space::config() const { return options_.to_json(); }

Shape Nb201Space::input_shape() const {
  return {options_.input_channels(), options_.input_size(), options_.input_size()};
}

void Nb201Space::check_input_shape(const Shape& in) const {
  HWNAS_CHECK_T(ConfigError, in.c == options_.input_channels(),
                "The nb201 space was configured for ", options_.input_channels(),
                " input channels, but got input shape ", in.str());
  HWNAS_CHECK_T(ConfigError, in.h > 0 && in.w > 0 && in.h % 4 == 0 && in.w % 4 == 0,
                "nb201 input height and width must be positive multiples of 4 (two stride-2 "
                "reductions), but got input shape ", in.str());
}

std::string Nb201Space::genes_to_string(const std::vector<int>& genes) const {
  std::string s;
  size_t e = 0;
  for (int node = 1; node <= 3; ++node) {
    if (node > 1) s += "+";
    s += "|";
    for (int in = 0; in < node; ++in, ++e)
      s += std::string(kOps[static_cast<size_t>(genes[e])]) + "~" + std::to_string(in) + "|";
  }
  return s;
}

std::vector<int> Nb201Space::parse_genes(const std::string& s) const {
  auto fail = [&](size_t pos, const std::string& what) {
    return ParseError(detail::concat(
        "Invalid NAS-Bench-201 arch '", s, "' at character ", pos + 1, ": ", what,
        ". Expected the form |op~0|+|op~0|op~1|+|op~0|op~1|op~2| with op one of ", ops_list()));
  };
  std::vector<int> genes;
  size_t pos = 0;
  for (int node = 1; node <= 3; ++node) {
    if (node > 1) {
      if (pos >= s.size()) throw fail(pos, "the string ends after node " + std::to_string(node - 1) + " of 3");
      if (s[pos] != '+')
        throw fail(pos, "node " + std::to_string(node - 1) + " has more than " +
                            std::to_string(node - 1) + " input(s), or '+' is missing");
      ++pos;
    }
    if (pos >= s.size() || s[pos] != '|')
      throw fail(pos, "node " + std::to_string(node) + " must start with '|'");
    ++pos;
    for (int in = 0; in < node; ++in) {
      if (pos >= s.size() || s[pos] == '+')
        throw fail(pos, "node " + std::to_string(node) + " has " + std::to_string(in) +
                            " input(s), but needs " + std::to_string(node));
      const size_t bar = s.find('|', pos);
      if (bar == std::string::npos) throw fail(pos, "edge is not closed by '|'");
      const std::string token = s.substr(pos, bar - pos);
      const size_t tilde = token.rfind('~');
      if (tilde == std::string::npos)
        throw fail(pos, "edge '" + token + "' has no '~input' part");
      const std::string op = token.substr(0, tilde), idx = token.substr(tilde + 1);
      int op_index = -1;
      for (size_t k = 0; k < kOps.size(); ++k)
        if (op == kOps[k]) op_index = static_cast<int>(k);
      if (op_index < 0) throw fail(pos, "unknown op '" + op + "'");
      if (idx != std::to_string(in))
        throw fail(pos + tilde + 1, "input " + std::to_string(in + 1) + " of node " +
                                        std::to_string(node) + " must come from node " +
                                        std::to_string(in) + ", but got '~" + idx + "'");
      genes.push_back(op_index);
      pos = bar + 1;
    }
  }
  if (pos != s.size())
    throw fail(pos, pos < s.size() && s[pos] == '+'
                        ? "more than 3 nodes"
                        : "node 3 has more than 3 inputs, or stray characters follow");
  return genes;
}

std::vector<int> Nb201Space::live_genes(const std::vector<int>& genes) const {
  if (!options_.skip_dead_ops()) return genes;
  // Forward: which nodes can be non-zero; backward: which reach node 3 (kEdges is in
  // topological order of the target node).
  bool nonzero[4] = {true, false, false, false}, useful[4] = {false, false, false, true};
  for (size_t e = 0; e < kEdges.size(); ++e)
    if (genes[e] != kNone && nonzero[kEdges[e].second]) nonzero[kEdges[e].first] = true;
  for (size_t e = kEdges.size(); e-- > 0;)
    if (genes[e] != kNone && useful[kEdges[e].first]) useful[kEdges[e].second] = true;
  std::vector<int> live = genes;
  for (size_t e = 0; e < kEdges.size(); ++e)
    if (!nonzero[kEdges[e].second] || !useful[kEdges[e].first]) live[e] = kNone;
  return live;
}

std::vector<LayerSpec> Nb201Space::do_layers(const std::vector<int>& all_genes,
                                             const Shape& input) const {
  const auto genes = live_genes(all_genes);
  std::vector<LayerSpec> out;
  int64_t c = options_.channels();
  Shape cur{c, input.h, input.w};
  out.emplace_back("conv_bn", input, cur, std::vector<std::pair<std::string, int64_t>>{{"k", 3}, {"s", 1}},
                   "stem");
  for (int stage = 0; stage < 3; ++stage) {
    if (stage > 0) {
      Shape next{cur.c * 2, cur.h / 2, cur.w / 2};
      out.emplace_back("nb201_resblock", cur, next,
                       std::vector<std::pair<std::string, int64_t>>{{"s", 2}},
                       "reduction" + std::to_string(stage));
      cur = next;
    }
    for (int64_t cell = 0; cell < options_.cells_per_stage(); ++cell) {
      const std::string where = "stage" + std::to_string(stage) + ".cell" + std::to_string(cell);
      int inputs[4] = {0, 0, 0, 0};
      for (size_t e = 0; e < kEdges.size(); ++e) {
        const auto [to, from] = kEdges[e];
        const std::string name = where + ".edge" + std::to_string(to) + "<-" + std::to_string(from);
        switch (genes[e]) {
          case kNone: continue;
          case kSkip: break;  // identity: no work, no layer
          case kConv1:
            out.emplace_back("relu_conv_bn", cur, cur,
                             std::vector<std::pair<std::string, int64_t>>{{"k", 1}, {"s", 1}}, name);
            break;
          case kConv3:
            out.emplace_back("relu_conv_bn", cur, cur,
                             std::vector<std::pair<std::string, int64_t>>{{"k", 3}, {"s", 1}}, name);
            break;
          case kPool:
            out.emplace_back("avg_pool", cur, cur,
                             std::vector<std::pair<std::string, int64_t>>{{"k", 3}, {"s", 1}}, name);
            break;
        }
        ++inputs[to];
      }
      for (int node = 1; node <= 3; ++node)
        if (inputs[node] > 1)
          out.emplace_back("add", cur, cur,
                           std::vector<std::pair<std::string, int64_t>>{{"n", inputs[node]}},
                           where + ".node" + std::to_string(node));
    }
  }
  out.emplace_back("bn_relu", cur, cur, std::vector<std::pair<std::string, int64_t>>{}, "lastact");
  const Shape pooled{cur.c, 1, 1};
  out.emplace_back("global_avg_pool", cur, pooled, std::vector<std::pair<std::string, int64_t>>{},
                   "global_pooling");
  out.emplace_back("linear", pooled, Shape{options_.num_classes(), 1, 1},
                   std::vector<std::pair<std::string, int64_t>>{{"bias", 1}}, "classifier");
  return out;
}

void register_nb201(SpaceRegistry& registry) {
  registry.add("nb201", Nb201Space().description(), [](const nlohmann::json& config) {
    return std::make_unique<Nb201Space>(Nb201Options::from_json(config));
  });
}

// The cell: nodes 0 (input) to 3 (output), one edge per operation other than "none".
Drawing Nb201Space::do_drawing(const std::vector<int>& genes) const {
  Drawing d;
  d.kind = "cells";
  Drawing::Graph g{"cell", {{"0", "in"}, {"1", "1"}, {"2", "2"}, {"3", "out"}}, {}};
  for (size_t e = 0; e < kEdges.size(); ++e)
    if (genes[e] != 0)
      g.edges.push_back({std::to_string(kEdges[e].second), std::to_string(kEdges[e].first), kOps[static_cast<size_t>(genes[e])]});
  d.graphs.push_back(std::move(g));
  return d;
}

}  // namespace hwnas::spaces
