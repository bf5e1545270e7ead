#include "hwnas/search_spaces/darts/darts.h"

#include <cctype>
#include <cmath>

#include <nlohmann/json.hpp>

#include "hwnas/core/error.h"
#include "hwnas/core/option_fields.h"
#include "hwnas/search_spaces/registry.h"

namespace hwnas::spaces {

const std::array<const char*, 8> DartsSpace::kOps = {"none",         "max_pool_3x3", "avg_pool_3x3", "skip_connect",
                                                     "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5"};

const char* const DartsSpace::kDartsV2 =
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
    "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], "
    "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
    "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])";

namespace {
constexpr int kGenesPerCell = DartsSpace::kNodes * 4;  // per node: op, input, op, input
const char* kCellNames[2] = {"normal", "reduce"};

std::string ops_list() {
  std::string s;
  for (const char* op : DartsSpace::kOps) s += (s.empty() ? "" : ", ") + std::string(op);
  return s;
}

// A small cursor-based parser for the genotype text, with positions in errors.
struct Cursor {
  const std::string& s;
  size_t pos = 0;
  [[noreturn]] void fail(const std::string& what) const {
    throw ParseError(detail::concat(
        "Invalid DARTS genotype '", s, "' at character ", pos + 1, ": ", what,
        ". Expected Genotype(normal=[('op', input), ... 8 pairs], normal_concat=[2, 3, 4, 5], reduce=[... 8 pairs], "
        "reduce_concat=[2, 3, 4, 5]) with op one of ",
        ops_list()));
  }
  void skip_ws() {
    while (pos < s.size() && std::isspace(static_cast<unsigned char>(s[pos]))) ++pos;
  }
  bool peek(char c) {
    skip_ws();
    return pos < s.size() && s[pos] == c;
  }
  void expect(const std::string& token) {
    skip_ws();
    if (s.compare(pos, token.size(), token) != 0) fail("expected '" + token + "'");
    pos += token.size();
  }
  int64_t integer() {
    skip_ws();
    size_t end = pos;
    while (end < s.size() && std::isdigit(static_cast<unsigned char>(s[end]))) ++end;
    if (end == pos || end - pos > 6) fail("expected a number");
    const int64_t v = std::stoll(s.substr(pos, end - pos));
    pos = end;
    return v;
  }
  std::string quoted() {
    skip_ws();
    if (pos >= s.size() || (s[pos] != '\'' && s[pos] != '"')) fail("expected a quoted op name");
    const char q = s[pos];
    const size_t end = s.find(q, pos + 1);
    if (end == std::string::npos) fail("unterminated op name");
    std::string name = s.substr(pos + 1, end - pos - 1);
    pos = end + 1;
    return name;
  }
};

void read_concat(Cursor& c, const std::string& cell) {
  c.skip_ws();
  std::vector<int64_t> concat;
  if (c.peek('[')) {
    c.expect("[");
    while (!c.peek(']')) {
      if (!concat.empty()) c.expect(",");
      concat.push_back(c.integer());
    }
    c.expect("]");
  } else {
    c.expect("range(");
    const int64_t a = c.integer();
    c.expect(",");
    const int64_t b = c.integer();
    c.expect(")");
    for (int64_t i = a; i < b; ++i) concat.push_back(i);
  }
  if (concat != std::vector<int64_t>{2, 3, 4, 5})
    c.fail(cell + "_concat must be [2, 3, 4, 5]: this space concatenates every intermediate node");
}
}  // namespace

void DartsOptions::validate() const {
  options::check(*this, "darts space config");
  HWNAS_CHECK_T(ConfigError, input_size() % 4 == 0,
                "Expected 'input_size' of the darts space config to be divisible by 4 (two reductions), but got ",
                input_size());
  if (auxiliary()) {
    const int64_t at = input_size() / 4;  // map size after the second reduction
    HWNAS_CHECK_T(ConfigError, at >= 5 && (at - 5) / 3 + 1 == 2,
                  "The DARTS auxiliary head needs an 8x8 to 10x10 feature map after the second reduction "
                  "(input_size 32 to 40), but input_size ", input_size(), " gives ", at, "x", at,
                  "; set \"auxiliary\": false");
  }
}

DartsOptions DartsOptions::from_json(const nlohmann::json& config) {
  auto o = options::read<DartsOptions>(config, "darts space config");
  o.validate();
  return o;
}

nlohmann::json DartsOptions::to_json() const { return options::write(*this); }

DartsSpace::DartsSpace(DartsOptions options) : options_(std::move(options)) {
  options_.validate();
  register_builtin_layer_kinds();  // so this space's layers are costed and profiled
  std::vector<std::string> ops(kOps.begin(), kOps.end());
  for (const char* cell : kCellNames)
    for (int i = 0; i < kNodes; ++i)
      for (int k = 0; k < 2; ++k) {
        const std::string base = std::string(cell) + ".node" + std::to_string(i) + "." + (k ? "b" : "a");
        choices_.push_back({base + ".op", ops});
        std::vector<std::string> inputs;
        for (int j = 0; j < i + 2; ++j) inputs.push_back(std::to_string(j));
        choices_.push_back({base + ".input", inputs});
      }
}

std::string DartsSpace::description() const {
  return "DARTS cells (Liu et al. 2019): normal + reduction cell, 4 nodes x 2 (op, input), 8 ops";
}

Shape DartsSpace::input_shape() const {
  return {options_.input_channels(), options_.input_size(), options_.input_size()};
}

void DartsSpace::check_input_shape(const Shape& in) const {
  HWNAS_CHECK_T(ConfigError, in.c == options_.input_channels(), "The darts space was configured for ",
                options_.input_channels(), " input channels, but got input shape ", in.str());
  HWNAS_CHECK_T(ConfigError, in.h > 0 && in.w > 0 && in.h % 4 == 0 && in.w % 4 == 0,
                "darts input height and width must be positive multiples of 4, but got ", in.str());
  HWNAS_CHECK_T(ConfigError, !options_.auxiliary() || (in.h == options_.input_size() && in.w == options_.input_size()),
                "The darts auxiliary head is sized for ", options_.input_size(), "x", options_.input_size(),
                " inputs, but got ", in.str());
}

double DartsSpace::size() const {
  // Per node: ordered pairs of (op, input) minus the pairs repeating one (op, input).
  double cell = 1;
  for (int i = 0; i < kNodes; ++i) {
    const double choices = static_cast<double>(kOps.size()) * (i + 2);
    cell *= choices * choices - choices;
  }
  return cell * cell;
}

void DartsSpace::check_rules(const std::vector<int>& genes) const {
  for (int c = 0; c < 2; ++c)
    for (int i = 0; i < kNodes; ++i) {
      const size_t g = static_cast<size_t>(c * kGenesPerCell + i * 4);
      HWNAS_CHECK_T(InvalidArchError, !(genes[g] == genes[g + 2] && genes[g + 1] == genes[g + 3]),
                    "Node ", i, " of the ", kCellNames[c], " cell applies ", kOps[static_cast<size_t>(genes[g])],
                    " to input ", genes[g + 1], " twice; its two (op, input) pairs must differ");
    }
}

std::string DartsSpace::genes_to_string(const std::vector<int>& genes) const {
  std::string s = "Genotype(";
  for (int c = 0; c < 2; ++c) {
    s += std::string(c ? ", " : "") + kCellNames[c] + "=[";
    for (int k = 0; k < kNodes * 2; ++k) {
      const size_t g = static_cast<size_t>(c * kGenesPerCell + k * 2);
      s += std::string(k ? ", " : "") + "('" + kOps[static_cast<size_t>(genes[g])] + "', " + std::to_string(genes[g + 1]) + ")";
    }
    s += "], " + std::string(kCellNames[c]) + "_concat=[2, 3, 4, 5]";
  }
  return s + ")";
}

std::vector<int> DartsSpace::parse_genes(const std::string& text) const {
  Cursor c{text};
  std::vector<int> genes;
  c.expect("Genotype(");
  for (int cell = 0; cell < 2; ++cell) {
    if (cell) c.expect(",");
    c.expect(std::string(kCellNames[cell]) + "=");
    c.expect("[");
    for (int k = 0; k < kNodes * 2; ++k) {
      if (c.peek(']')) c.fail(std::string(kCellNames[cell]) + " has " + std::to_string(k) + " (op, input) pairs, needs 8");
      if (k) c.expect(",");
      c.expect("(");
      const size_t at = c.pos;
      const std::string op = c.quoted();
      int op_index = -1;
      for (size_t o = 0; o < kOps.size(); ++o)
        if (op == kOps[o]) op_index = static_cast<int>(o);
      if (op_index < 0) {
        c.pos = at;
        c.fail("unknown op '" + op + "'");
      }
      c.expect(",");
      const size_t in_at = c.pos;
      const int64_t input = c.integer();
      const int node = k / 2;
      if (input > node + 1) {
        c.pos = in_at;
        c.fail("node " + std::to_string(node) + " of the " + kCellNames[cell] + " cell can take inputs 0.." +
               std::to_string(node + 1) + ", but got " + std::to_string(input));
      }
      c.expect(")");
      genes.push_back(op_index);
      genes.push_back(static_cast<int>(input));
    }
    if (!c.peek(']')) c.fail(std::string(kCellNames[cell]) + " has more than 8 (op, input) pairs");
    c.expect("]");
    c.expect(",");
    c.expect(std::string(kCellNames[cell]) + "_concat=");
    read_concat(c, kCellNames[cell]);
  }
  c.expect(")");
  c.skip_ws();
  if (c.pos != text.size()) c.fail("stray characters after the genotype");
  return genes;
}

std::vector<LayerSpec> DartsSpace::do_layer_universe() const {
  // An op's layer depends on the cell, node, input and op only: for every op and input
  // offset j, the genotype where node i applies it to input min(j, i+1) (and to the next
  // input as its second pair) covers every (node, input, op) of both cells.
  std::vector<LayerSpec> out;
  for (int op = 0; op < static_cast<int>(kOps.size()); ++op)
    for (int j = 0; j < kNodes + 1; ++j) {
      std::vector<int> genes;
      for (int c = 0; c < 2; ++c)
        for (int i = 0; i < kNodes; ++i) {
          const int a = std::min(j, i + 1);
          genes.insert(genes.end(), {op, a, op, (a + 1) % (i + 2)});
        }
      auto layers = do_layers(genes, input_shape());
      out.insert(out.end(), layers.begin(), layers.end());
    }
  return out;
}

void register_darts(SpaceRegistry& registry) {
  registry.add("darts", DartsSpace().description(), [](const nlohmann::json& config) {
    return std::make_unique<DartsSpace>(DartsOptions::from_json(config));
  });
}

// Each cell: inputs c_{k-2} and c_{k-1}, four nodes of two operations each, and the
// output concatenating the nodes.
Drawing DartsSpace::do_drawing(const std::vector<int>& genes) const {
  Drawing d;
  d.kind = "cells";
  for (int c = 0; c < 2; ++c) {
    Drawing::Graph g{kCellNames[c], {{"c_k-2", "c_{k-2}"}, {"c_k-1", "c_{k-1}"}}, {}};
    for (int i = 0; i < kNodes; ++i) g.nodes.push_back({std::to_string(i), std::to_string(i)});
    g.nodes.push_back({"c_k", "c_{k}"});
    const auto input_id = [](int j) { return j == 0 ? std::string("c_k-2") : j == 1 ? std::string("c_k-1") : std::to_string(j - 2); };
    for (int i = 0; i < kNodes; ++i) {
      for (int k = 0; k < 2; ++k) {
        const size_t at = static_cast<size_t>(c * kGenesPerCell + i * 4 + k * 2);
        g.edges.push_back({input_id(genes[at + 1]), std::to_string(i), kOps[static_cast<size_t>(genes[at])]});
      }
      g.edges.push_back({std::to_string(i), "c_k", ""});
    }
    d.graphs.push_back(std::move(g));
  }
  return d;
}

}  // namespace hwnas::spaces
