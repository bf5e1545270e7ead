#include "hwnas/core/json_number.h"
#include "hwnas/core/search_space.h"

#include <algorithm>

#include <cmath>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "hwnas/core/error.h"
#include "hwnas/core/random.h"

namespace hwnas {
namespace {
std::string options_list(const Choice& c) {
  std::string s;
  for (size_t i = 0; i < c.options.size(); ++i)
    s += (i ? ", " : "") + std::to_string(i) + "=" + c.options[i];
  return s;
}
// Attempts before sampling/mutation gives up on a space whose rules reject most genes.
constexpr int kMaxTries = 10000;
}  // namespace

double SearchSpace::size() const {
  double n = 1;
  for (const auto& c : choices()) n *= static_cast<double>(c.options.size());
  return n;
}

void SearchSpace::check_genes(const std::vector<int>& genes) const {
  const auto& cs = choices();
  HWNAS_CHECK_T(InvalidArchError, genes.size() == cs.size(), "An arch of space '", name(),
                "' has ", cs.size(), " genes, but got ", genes.size());
  for (size_t i = 0; i < cs.size(); ++i) {
    HWNAS_CHECK_T(InvalidArchError,
                  genes[i] >= 0 && genes[i] < static_cast<int>(cs[i].options.size()),
                  "Gene ", i, " ('", cs[i].name, "') of space '", name(), "' must be in [0, ",
                  cs[i].options.size() - 1, "] (", options_list(cs[i]), "), but got ", genes[i]);
  }
  check_rules(genes);
}

void SearchSpace::check_own(const Arch& arch) const {
  HWNAS_CHECK_T(InvalidArchError, !arch.empty(), "Expected an arch of space '", name(),
                "', but got an empty arch");
  HWNAS_CHECK_T(InvalidArchError, arch.space() == name(), "Expected an arch of space '", name(),
                "', but got one of space '", arch.space(), "': ", arch.str());
  check_genes(arch.genes());
}

Arch SearchSpace::make(const std::vector<int>& raw) const {
  check_genes(raw);
  auto genes = canonicalize(raw);
  HWNAS_INTERNAL_ASSERT(genes.size() == raw.size(), "space '", name(), "' canonicalized ",
                        raw.size(), " genes into ", genes.size());
  check_genes(genes);
  return Arch(name(), genes, genes_to_string(genes));
}

Arch SearchSpace::parse(const std::string& canonical) const {
  auto arch = make(parse_genes(canonical));
  HWNAS_INTERNAL_ASSERT(canonicalize(parse_genes(arch.str())) == arch.genes(), "space '", name(),
                        "' does not round-trip '", arch.str(), "'");
  return arch;
}

std::vector<int> SearchSpace::genes_from_json(const nlohmann::json& j) const {
  throw ParseError(detail::concat(
      "Expected an arch of space '", name(),
      "' as JSON {\"space\": ..., \"arch\": \"...\"} or a string, but got ", j.dump()));
}

Shape SearchSpace::input_shape_of(const Arch& arch) const {
  check_own(arch);
  return arch_input_shape(arch.genes());
}

Arch SearchSpace::from_json(const nlohmann::json& j) const {
  if (j.is_string()) return parse(j.get<std::string>());
  if (j.is_object() && !j.contains("arch")) return make(genes_from_json(j));
  HWNAS_CHECK_T(ParseError, j.is_object() && j["arch"].is_string(),
                "Expected an arch as JSON {\"space\": ..., \"arch\": \"...\"} or a string, but got ",
                j.dump());
  if (j.contains("space")) {
    HWNAS_CHECK_T(InvalidArchError, j["space"] == name(), "Expected an arch of space '", name(),
                  "', but the JSON says space ", j["space"].dump());
  }
  Arch arch = parse(j["arch"].get<std::string>());
  if (j.contains("genes")) {
    HWNAS_CHECK_T(ParseError, j["genes"].is_array(), "Expected 'genes' to be a list, but got ",
                  j["genes"].dump());
    std::vector<int> genes;
    for (const auto& g : j["genes"]) {
      HWNAS_CHECK_T(ParseError, g.is_number_integer(), "Expected integer genes, but got ",
                    j["genes"].dump());
      genes.push_back(json_integer<int>(g, "a gene"));
    }
    HWNAS_CHECK_T(ParseError, genes == arch.genes(), "The arch JSON's genes ", j["genes"].dump(),
                  " disagree with its string '", arch.str(), "'");
  }
  return arch;
}

std::vector<int> SearchSpace::do_sample(Rng& rng) const {
  const auto& cs = choices();
  for (int t = 0; t < kMaxTries; ++t) {
    std::vector<int> g(cs.size());
    for (size_t i = 0; i < cs.size(); ++i)
      g[i] = static_cast<int>(rng.uniform_int(static_cast<int64_t>(cs[i].options.size())));
    try {
      check_rules(g);
      return g;
    } catch (const InvalidArchError&) {
    }
  }
  throw ConfigError(detail::concat("Space '", name(), "' found no valid arch in ", kMaxTries,
                                   " uniform samples; override do_sample"));
}

std::vector<int> SearchSpace::do_mutate(const std::vector<int>& genes, Rng& rng) const {
  const auto& cs = choices();
  std::vector<size_t> mutable_choices;
  for (size_t i = 0; i < cs.size(); ++i)
    if (cs[i].options.size() > 1) mutable_choices.push_back(i);
  HWNAS_CHECK_T(ConfigError, !mutable_choices.empty(), "Space '", name(),
                "' has a single arch; nothing to mutate");
  for (int t = 0; t < kMaxTries; ++t) {
    auto g = genes;
    const size_t i = mutable_choices[static_cast<size_t>(
        rng.uniform_int(static_cast<int64_t>(mutable_choices.size())))];
    const int n = static_cast<int>(cs[i].options.size());
    g[i] = (g[i] + 1 + static_cast<int>(rng.uniform_int(n - 1))) % n;  // a different option
    try {
      check_rules(g);
      return g;
    } catch (const InvalidArchError&) {
    }
  }
  throw ConfigError(detail::concat("Space '", name(), "' found no valid mutation in ", kMaxTries,
                                   " tries; override do_mutate"));
}

std::vector<int> SearchSpace::do_crossover(const std::vector<int>& a, const std::vector<int>& b,
                                           Rng& rng) const {
  for (int t = 0; t < kMaxTries; ++t) {
    std::vector<int> g(a.size());
    for (size_t i = 0; i < a.size(); ++i) g[i] = rng.bernoulli(0.5) ? a[i] : b[i];
    try {
      check_rules(g);
      return g;
    } catch (const InvalidArchError&) {
    }
  }
  return a;  // the parents themselves are valid
}

Arch SearchSpace::sample(Rng& rng) const { return make(do_sample(rng)); }

Arch SearchSpace::mutate(const Arch& arch, Rng& rng) const {
  check_own(arch);
  // A change to a gene that canonicalization discards (an inactive block) is no change.
  for (int t = 0; t < kMaxTries; ++t) {
    auto child = make(do_mutate(arch.genes(), rng));
    if (child != arch) return child;
  }
  throw ConfigError(detail::concat("Space '", name(), "' found no mutation of ", arch.str(),
                                   " that changes the network in ", kMaxTries, " tries"));
}

Arch SearchSpace::crossover(const Arch& a, const Arch& b, Rng& rng) const {
  check_own(a);
  check_own(b);
  return make(do_crossover(a.genes(), b.genes(), rng));
}

bool SearchSpace::is_valid(const Arch& arch) const noexcept {
  try {
    check_own(arch);
    return true;
  } catch (const Error&) {
    return false;
  }
}

void SearchSpace::validate(const Arch& arch) const { check_own(arch); }

std::vector<Arch> SearchSpace::enumerate(double limit) const {
  const double n = size();
  HWNAS_CHECK_T(ConfigError, n <= limit, "Space '", name(), "' has ", n,
                " archs, more than the enumeration limit ", limit);
  const auto& cs = choices();
  std::vector<Arch> out;
  std::vector<int> g(cs.size(), 0);
  while (true) {
    try {
      check_rules(g);
      if (canonicalize(g) == g) out.emplace_back(name(), g, genes_to_string(g));
    } catch (const InvalidArchError&) {
    }
    // Mixed-radix increment, first gene fastest.
    size_t i = 0;
    while (i < g.size() && ++g[i] == static_cast<int>(cs[i].options.size())) g[i++] = 0;
    if (i == g.size()) break;
  }
  return out;
}

void SearchSpace::check_input_shape(const Shape& input) const {
  HWNAS_CHECK_T(ConfigError, input.c > 0 && input.h > 0 && input.w > 0,
                "Expected a positive input shape, but got ", input.str());
}

std::vector<LayerSpec> SearchSpace::layers(const Arch& arch) const {
  return layers(arch, input_shape_of(arch));
}

std::vector<LayerSpec> SearchSpace::layers(const Arch& arch, const Shape& input) const {
  check_own(arch);
  check_input_shape(input);
  return do_layers(arch.genes(), input);
}

LayerPart SearchSpace::named_layer_part(std::vector<int> genes, std::vector<std::string> names,
                                        std::vector<int> base) const {
  auto layers = [this, genes, names = std::move(names), base = std::move(base)](const std::vector<int>& values) {
    std::vector<int> g = base;
    for (size_t i = 0; i < genes.size(); ++i) g[static_cast<size_t>(genes[i])] = values[i];
    std::vector<LayerSpec> out;
    for (auto& l : do_layers(g, arch_input_shape(g)))
      if (std::find(names.begin(), names.end(), l.name) != names.end()) out.push_back(std::move(l));
    return out;
  };
  return LayerPart{std::move(genes), std::move(layers)};
}

std::vector<LayerSpec> SearchSpace::layer_universe() const {
  auto layers = do_layer_universe();
  std::vector<LayerSpec> unique;
  std::unordered_set<std::string> seen;
  for (auto& l : layers)
    if (seen.insert(l.key()).second) unique.push_back(std::move(l));
  return unique;
}

std::vector<LayerSpec> SearchSpace::do_layer_universe() const {
  HWNAS_CHECK_T(ConfigError, size() <= 1e5, "Space '", name(), "' has ", size(),
                " archs, too many to list their layers one by one; it must override do_layer_universe");
  std::vector<LayerSpec> out;
  for (const auto& arch : enumerate()) {
    auto layers = this->layers(arch);
    out.insert(out.end(), layers.begin(), layers.end());
  }
  return out;
}

std::vector<float> SearchSpace::do_encode(const std::vector<int>& genes) const {
  std::vector<float> v;
  v.reserve(static_cast<size_t>(do_encoding_size()));
  const auto& cs = choices();
  for (size_t i = 0; i < cs.size(); ++i)
    for (size_t k = 0; k < cs[i].options.size(); ++k)
      v.push_back(static_cast<int>(k) == genes[i] ? 1.0f : 0.0f);
  return v;
}

int64_t SearchSpace::do_encoding_size() const {
  int64_t n = 0;
  for (const auto& c : choices()) n += static_cast<int64_t>(c.options.size());
  return n;
}

Drawing SearchSpace::drawing(const Arch& arch) const {
  validate(arch);
  auto d = do_drawing(arch.genes());
  if (d.title.empty()) d.title = arch.str();
  return d;
}

Drawing SearchSpace::do_drawing(const std::vector<int>& genes) const {
  Drawing d;
  const auto& cs = choices();
  for (size_t i = 0; i < cs.size(); ++i) d.rows.emplace_back(cs[i].name, cs[i].options[static_cast<size_t>(genes[i])]);
  return d;
}

std::vector<float> SearchSpace::encode(const Arch& arch) const {
  check_own(arch);
  auto v = do_encode(arch.genes());
  HWNAS_INTERNAL_ASSERT(static_cast<int64_t>(v.size()) == do_encoding_size(), "space '", name(),
                        "' encoded ", v.size(), " values, expected ", do_encoding_size());
  return v;
}

int64_t SearchSpace::encoding_size() const { return do_encoding_size(); }

std::shared_ptr<nn::Network> SearchSpace::build(const Arch& arch,
                                                const BuildOptions& options) const {
  check_own(arch);
  HWNAS_CHECK_T(ConfigError, options.bn_momentum() >= 0 && options.bn_momentum() <= 1,
                "Expected bn_momentum in [0, 1], but got ", options.bn_momentum());
  HWNAS_CHECK_T(ConfigError, options.dropout() >= 0 && options.dropout() < 1,
                "Expected dropout in [0, 1), but got ", options.dropout());
  std::shared_ptr<nn::Network> net;
  {
    TorchSeedScope seeded(options.seed());
    net = do_build(arch.genes(), options);
  }
  HWNAS_INTERNAL_ASSERT(net != nullptr, "space '", name(), "' built a null network");
  return net;
}

std::shared_ptr<nn::Supernet> SearchSpace::supernet(const SupernetOptions& options) const {
  std::shared_ptr<nn::Supernet> net;
  {
    TorchSeedScope seeded(options.build().seed());
    net = do_supernet(options);
  }
  HWNAS_INTERNAL_ASSERT(net != nullptr, "space '", name(), "' built a null supernet");
  return net;
}

std::shared_ptr<nn::Supernet> SearchSpace::do_supernet(const SupernetOptions&) const {
  throw ConfigError(detail::concat("Space '", name(), "' has no weight-sharing supernet"));
}

}  // namespace hwnas
