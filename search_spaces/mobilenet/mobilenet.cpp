#include "hwnas/search_spaces/mobilenet/mobilenet.h"

#include <algorithm>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "hwnas/core/config.h"
#include "hwnas/core/error.h"
#include "hwnas/search_spaces/registry.h"

namespace hwnas::spaces {
namespace {

const char* kProxylessCandidates = R"(["k3_e3", "k3_e6", "k5_e3", "k5_e6", "k7_e3", "k7_e6", "skip"])";

nlohmann::json stage(int64_t c, int64_t n, int64_t s, const char* act, bool se = false) {
  return {{"channels", c}, {"blocks", n}, {"stride", s}, {"act", act}, {"se", se}};
}

const std::map<std::string, nlohmann::json>& presets() {
  static const std::map<std::string, nlohmann::json> p = [] {
    std::map<std::string, nlohmann::json> m;
    nlohmann::json base = {
        {"input_channels", 3}, {"input_size", 224}, {"num_classes", 1000}, {"dropout", 0.0},
        {"stem", {{"channels", 32}, {"kernel", 3}, {"stride", 2}, {"act", "relu6"}}},
        {"first_block", {{"channels", 16}, {"kernel", 3}, {"expand", 1}, {"act", "relu6"}, {"se", false}}},
        {"candidates", nlohmann::json::parse(kProxylessCandidates)},
        {"head", {{"channels", 1280}, {"act", "relu6"}}},
        {"feature_mix", nullptr}};
    // ProxylessNAS (Cai et al., ICLR 2019), its mobile search space.
    m["proxyless"] = base;
    m["proxyless"]["stages"] = {stage(24, 4, 2, "relu6"), stage(40, 4, 2, "relu6"), stage(80, 4, 2, "relu6"),
                                stage(96, 4, 1, "relu6"), stage(192, 4, 2, "relu6"), stage(320, 1, 1, "relu6")};
    // MobileNetV2 1.0 (Sandler et al. 2018), torchvision's layout (t, c, n, s table).
    m["mobilenetv2"] = base;
    m["mobilenetv2"]["dropout"] = 0.2;
    m["mobilenetv2"]["stages"] = {stage(24, 2, 2, "relu6"), stage(32, 3, 2, "relu6"), stage(64, 4, 2, "relu6"),
                                  stage(96, 3, 1, "relu6"), stage(160, 3, 2, "relu6"), stage(320, 1, 1, "relu6")};
    // FBNet (Wu et al., CVPR 2019), Table 1 macro space and Table 2 candidates.
    m["fbnet"] = base;
    m["fbnet"]["stem"] = {{"channels", 16}, {"kernel", 3}, {"stride", 2}, {"act", "relu"}};
    m["fbnet"]["first_block"] = nullptr;
    m["fbnet"]["stages"] = {stage(16, 1, 1, "relu"), stage(24, 4, 2, "relu"), stage(32, 4, 2, "relu"),
                            stage(64, 4, 2, "relu"), stage(112, 4, 1, "relu"), stage(184, 4, 2, "relu"),
                            stage(352, 1, 1, "relu")};
    m["fbnet"]["candidates"] = {"k3_e1", "k3_e1_g2", "k3_e3", "k3_e6", "k5_e1", "k5_e1_g2", "k5_e3", "k5_e6", "skip"};
    m["fbnet"]["head"] = {{"channels", 1504}, {"act", "relu"}};
    return m;
  }();
  return p;
}

const std::vector<std::string> kActs = {"none", "relu", "relu6", "hswish"};

std::string preset_names() {
  std::string s;
  for (const auto& kv : presets()) s += (s.empty() ? "" : ", ") + kv.first;
  return s;
}

int64_t se_channels(int64_t mid) { return make_divisible(static_cast<double>(mid / 4), 8); }

}  // namespace

Candidate Candidate::parse(const std::string& name) {
  Candidate c;
  c.name = name;
  if (name == "skip") {
    c.skip = true;
    return c;
  }
  int k = 0, e = 0, g = 1, consumed = 0;
  const bool ok = (std::sscanf(name.c_str(), "k%d_e%d_g%d%n", &k, &e, &g, &consumed) == 3 ||
                   (g = 1, std::sscanf(name.c_str(), "k%d_e%d%n", &k, &e, &consumed) == 2)) &&
                  consumed == static_cast<int>(name.size());
  HWNAS_CHECK_T(ConfigError, ok && k > 0 && k % 2 == 1 && k <= 15 && e >= 1 && e <= 16 && g >= 1 && g <= 64,
                "Invalid candidate '", name,
                "': expected 'skip' or k<odd kernel>_e<expand ratio>[_g<groups>], e.g. k3_e6 or k5_e1_g2");
  c.kernel = k;
  c.expand = e;
  c.groups = g;
  return c;
}

MobileNetOptions MobileNetOptions::from_json(const nlohmann::json& user) {
  HWNAS_CHECK_T(ConfigError, user.is_object() || user.is_null(),
                "Expected the mobilenet space config to be a JSON object, but got ", user.dump());
  MobileNetOptions c;
  c.preset(user.is_object() && user.contains("preset") && user["preset"].is_string() ? user["preset"].get<std::string>()
                                                                                     : "proxyless");
  HWNAS_CHECK_T(ConfigError, presets().count(c.preset()), "Unknown mobilenet preset '", c.preset(),
                "'; presets: ", preset_names());
  nlohmann::json j = presets().at(c.preset());
  if (user.is_object())
    for (const auto& [k, v] : user.items()) j[k] = v;
  ConfigReader r(j, "mobilenet space config");
  r.get_string("preset", c.preset());
  c.input_channels(r.get_int("input_channels", 3, 1, 64));
  c.input_size(r.get_int("input_size", 224, 8, 4096));
  c.num_classes(r.get_int("num_classes", 1000, 1, 1000000));
  c.dropout(r.get_double("dropout", 0.0, 0.0, 0.99));

  ConfigReader stem(r.get_json("stem", nullptr), "mobilenet 'stem'");
  c.stem_channels(stem.get_int("channels", 32, 1, 4096));
  c.stem_kernel(stem.get_int("kernel", 3, 1, 15));
  c.stem_stride(stem.get_int("stride", 2, 1, 4));
  c.stem_act(parse_act(stem.get_string("act", "relu6", kActs)));
  stem.finish();
  HWNAS_CHECK_T(ConfigError, c.stem_kernel() % 2 == 1, "The mobilenet stem kernel must be odd, but got ", c.stem_kernel());

  int64_t channels = c.stem_channels();
  auto fb = r.get_json("first_block", nullptr);
  c.has_first_block(!fb.is_null());
  if (c.has_first_block()) {
    ConfigReader b(fb, "mobilenet 'first_block'");
    auto& f = c.first_block();
    f.slot = "first";
    f.in = channels;
    f.out = b.get_int("channels", 16, 1, 4096);
    f.kernel = b.get_int("kernel", 3, 1, 15);
    const int64_t expand = b.get_int("expand", 1, 1, 16);
    f.act = parse_act(b.get_string("act", "relu6", kActs));
    const bool se = b.get_bool("se", false);
    b.finish();
    HWNAS_CHECK_T(ConfigError, f.kernel % 2 == 1, "The mobilenet first_block kernel must be odd, but got ", f.kernel);
    f.mid = f.in * expand;
    f.expand_conv = expand != 1;
    f.se_mid = se ? se_channels(f.mid) : 0;
    f.residual = f.in == f.out;
    channels = f.out;
  }

  auto stages = r.get_json("stages", nlohmann::json::array());
  HWNAS_CHECK_T(ConfigError, stages.is_array() && !stages.empty(),
                "Expected 'stages' in the mobilenet space config to be a non-empty list of {channels, blocks, "
                "stride, act, se}, but got ", stages.dump());
  for (size_t i = 0; i < stages.size(); ++i) {
    ConfigReader s(stages[i], "mobilenet 'stages[" + std::to_string(i) + "]'");
    ChainStage st;
    st.channels = s.get_int("channels", 0, 1, 4096);
    st.blocks = s.get_int("blocks", 1, 1, 64);
    st.stride = s.get_int("stride", 1, 1, 4);
    st.act = parse_act(s.get_string("act", "relu6", kActs));
    st.se = s.get_bool("se", false);
    s.finish();
    HWNAS_CHECK_T(ConfigError, st.channels > 0, "mobilenet 'stages[", i, "]' needs 'channels'");
    c.stages().push_back(st);
  }

  auto cands = r.get_json("candidates", nlohmann::json::array());
  HWNAS_CHECK_T(ConfigError, cands.is_array() && !cands.empty(),
                "Expected 'candidates' to be a non-empty list such as [\"k3_e3\", \"k5_e6\", \"skip\"], but got ",
                cands.dump());
  std::set<std::string> seen;
  for (const auto& n : cands) {
    HWNAS_CHECK_T(ConfigError, n.is_string(), "Expected candidate names as strings, but got ", n.dump());
    HWNAS_CHECK_T(ConfigError, seen.insert(n.get<std::string>()).second, "Candidate '", n.get<std::string>(),
                  "' is listed twice");
    c.candidates().push_back(Candidate::parse(n.get<std::string>()));
  }
  bool any_op = false;
  for (const auto& cand : c.candidates()) any_op = any_op || !cand.skip;
  HWNAS_CHECK_T(ConfigError, any_op, "The mobilenet candidates need at least one op besides 'skip'");

  auto head = r.get_json("head", nullptr);
  c.head_channels(0);
  if (!head.is_null()) {
    ConfigReader h(head, "mobilenet 'head'");
    c.head_channels(h.get_int("channels", 1280, 1, 100000));
    c.head_act(parse_act(h.get_string("act", "relu6", kActs)));
    h.finish();
  }
  auto mix = r.get_json("feature_mix", nullptr);
  c.mix_channels(0);
  if (!mix.is_null()) {
    ConfigReader m(mix, "mobilenet 'feature_mix'");
    c.mix_channels(m.get_int("channels", 1280, 1, 100000));
    c.mix_act(parse_act(m.get_string("act", "hswish", kActs)));
    m.finish();
  }
  r.finish();
  return c;
}

nlohmann::json MobileNetOptions::to_json() const {
  nlohmann::json j = {{"preset", preset()},
                      {"input_channels", input_channels()},
                      {"input_size", input_size()},
                      {"num_classes", num_classes()},
                      {"dropout", dropout()},
                      {"stem", {{"channels", stem_channels()}, {"kernel", stem_kernel()}, {"stride", stem_stride()}, {"act", act_name(stem_act())}}}};
  j["first_block"] = has_first_block()
                         ? nlohmann::json{{"channels", first_block().out}, {"kernel", first_block().kernel},
                                          {"expand", first_block().mid / first_block().in}, {"act", act_name(first_block().act)},
                                          {"se", first_block().se_mid > 0}}
                         : nlohmann::json(nullptr);
  j["stages"] = nlohmann::json::array();
  for (const auto& s : stages()) j["stages"].push_back(stage(s.channels, s.blocks, s.stride, act_name(s.act).c_str(), s.se));
  j["candidates"] = nlohmann::json::array();
  for (const auto& c : candidates()) j["candidates"].push_back(c.name);
  j["head"] = head_channels() > 0 ? nlohmann::json{{"channels", head_channels()}, {"act", act_name(head_act())}}
                                : nlohmann::json(nullptr);
  j["feature_mix"] = mix_channels() > 0 ? nlohmann::json{{"channels", mix_channels()}, {"act", act_name(mix_act())}}
                                      : nlohmann::json(nullptr);
  return j;
}

MobileNetOptions MobileNetOptions::from_preset(const std::string& name) { return from_json({{"preset", name}}); }

// The JSON config's rules, by a round trip: options built in C++ get the same checks.
void MobileNetOptions::validate() const { (void)from_json(to_json()); }

MobileNetSpace::MobileNetSpace(MobileNetOptions options) : options_(std::move(options)) {
  register_builtin_layer_kinds();  // so this space's layers are costed and profiled
  options_.validate();
  std::vector<std::string> names;
  for (const auto& c : options_.candidates()) names.push_back(c.name);
  int64_t in = options_.has_first_block() ? options_.first_block().out : options_.stem_channels();
  for (size_t s = 0; s < options_.stages().size(); ++s) {
    const auto& st = options_.stages()[s];
    for (int64_t b = 0; b < st.blocks; ++b) {
      const int64_t stride = b == 0 ? st.stride : 1;
      slots_.push_back({static_cast<int>(s), static_cast<int>(b), in, st.channels, stride,
                        stride == 1 && in == st.channels});
      choices_.push_back({"s" + std::to_string(s + 1) + "b" + std::to_string(b), names});
      in = st.channels;
    }
  }
}

std::string MobileNetSpace::description() const {
  return "Mobile inverted-residual chain (presets: " + preset_names() + "; now " + options_.preset() + ")";
}

Shape MobileNetSpace::input_shape() const {
  return {options_.input_channels(), options_.input_size(), options_.input_size()};
}

void MobileNetSpace::check_input_shape(const Shape& in) const {
  HWNAS_CHECK_T(ConfigError, in.c == options_.input_channels(), "The mobilenet space was configured for ",
                options_.input_channels(), " input channels, but got input shape ", in.str());
  SearchSpace::check_input_shape(in);
}

double MobileNetSpace::size() const {
  double n = 1;
  for (const auto& slot : slots_) {
    int64_t allowed = 0;
    for (const auto& c : options_.candidates()) allowed += (!c.skip || slot.skippable) ? 1 : 0;
    n *= static_cast<double>(allowed);
  }
  return n;
}

void MobileNetSpace::check_rules(const std::vector<int>& genes) const {
  for (size_t i = 0; i < slots_.size(); ++i) {
    const auto& cand = options_.candidates()[static_cast<size_t>(genes[i])];
    if (!cand.skip || slots_[i].skippable) continue;
    std::string allowed;
    for (const auto& c : options_.candidates())
      if (!c.skip) allowed += (allowed.empty() ? "" : ", ") + c.name;
    throw InvalidArchError(detail::concat("Block ", choices_[i].name, " cannot be 'skip': it changes the shape (",
                                          slots_[i].in, " -> ", slots_[i].out, " channels, stride ", slots_[i].stride,
                                          "); allowed there: ", allowed));
  }
}

std::vector<int> MobileNetSpace::do_sample(Rng& rng) const {
  std::vector<int> genes;
  for (const auto& slot : slots_) {
    std::vector<int> allowed;
    for (size_t c = 0; c < options_.candidates().size(); ++c)
      if (!options_.candidates()[c].skip || slot.skippable) allowed.push_back(static_cast<int>(c));
    genes.push_back(allowed[static_cast<size_t>(rng.uniform_int(static_cast<int64_t>(allowed.size())))]);
  }
  return genes;
}

std::string MobileNetSpace::genes_to_string(const std::vector<int>& genes) const {
  std::string s;
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (i > 0) s += slots_[i].index == 0 ? ":" : ",";
    s += options_.candidates()[static_cast<size_t>(genes[i])].name;
  }
  return s;
}

std::vector<int> MobileNetSpace::parse_genes(const std::string& text) const {
  std::string names;
  for (const auto& c : options_.candidates()) names += (names.empty() ? "" : ", ") + c.name;
  auto fail = [&](const std::string& what) {
    return ParseError(detail::concat("Invalid mobilenet arch '", text, "': ", what,
                                     ". Expected ", options_.stages().size(),
                                     " stages joined by ':' of block candidates joined by ',' (blocks per stage: ",
                                     [&] {
                                       std::string b;
                                       for (const auto& st : options_.stages()) b += (b.empty() ? "" : ",") + std::to_string(st.blocks);
                                       return b;
                                     }(),
                                     "), candidates: ", names));
  };
  std::vector<std::string> stages;
  size_t start = 0;
  while (true) {
    const size_t colon = text.find(':', start);
    stages.push_back(text.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  if (stages.size() != options_.stages().size())
    throw fail("it has " + std::to_string(stages.size()) + " stage(s), the space has " +
               std::to_string(options_.stages().size()));
  std::vector<int> genes;
  for (size_t s = 0; s < stages.size(); ++s) {
    std::vector<std::string> blocks;
    size_t b0 = 0;
    while (true) {
      const size_t comma = stages[s].find(',', b0);
      blocks.push_back(stages[s].substr(b0, comma == std::string::npos ? std::string::npos : comma - b0));
      if (comma == std::string::npos) break;
      b0 = comma + 1;
    }
    if (static_cast<int64_t>(blocks.size()) != options_.stages()[s].blocks)
      throw fail("stage " + std::to_string(s + 1) + " has " + std::to_string(blocks.size()) + " block(s), the space has " +
                 std::to_string(options_.stages()[s].blocks));
    for (size_t b = 0; b < blocks.size(); ++b) {
      int found = -1;
      for (size_t c = 0; c < options_.candidates().size(); ++c)
        if (options_.candidates()[c].name == blocks[b]) found = static_cast<int>(c);
      if (found < 0)
        throw fail("unknown candidate '" + blocks[b] + "' at stage " + std::to_string(s + 1) + " block " +
                   std::to_string(b));
      genes.push_back(found);
    }
  }
  return genes;
}

BlockSpec MobileNetSpace::block(size_t i, const Candidate& cand) const {
  const auto& slot = slots_[i];
  const auto& st = options_.stages()[static_cast<size_t>(slot.stage)];
  BlockSpec b;
  b.slot = choices_[i].name;
  b.in = slot.in;
  b.out = slot.out;
  b.kernel = cand.kernel;
  b.stride = slot.stride;
  b.mid = slot.in * cand.expand;
  b.groups = cand.groups;
  b.act = st.act;
  b.expand_conv = cand.expand != 1;
  b.se_mid = st.se ? se_channels(b.mid) : 0;
  b.residual = slot.skippable;
  return b;
}

ChainNet MobileNetSpace::network(const std::vector<int>& genes) const {
  ChainNet net;
  net.input_channels = options_.input_channels();
  net.stem_channels = options_.stem_channels();
  net.stem_kernel = options_.stem_kernel();
  net.stem_stride = options_.stem_stride();
  net.stem_act = options_.stem_act();
  if (options_.has_first_block()) net.blocks.push_back(options_.first_block());
  for (size_t i = 0; i < slots_.size(); ++i) {
    const auto& cand = options_.candidates()[static_cast<size_t>(genes[i])];
    if (cand.skip) continue;
    const BlockSpec b = block(i, cand);
    HWNAS_CHECK_T(InvalidArchError, b.in % b.groups == 0 && b.mid % b.groups == 0 && b.out % b.groups == 0,
                  "Block ", b.slot, " with candidate ", cand.name, ": ", b.groups, " groups do not divide its channels (",
                  b.in, ", ", b.mid, ", ", b.out, ")");
    net.blocks.push_back(b);
  }
  net.final_channels = options_.head_channels();
  net.final_act = options_.head_act();
  net.mix_channels = options_.mix_channels();
  net.mix_act = options_.mix_act();
  net.num_classes = options_.num_classes();
  net.dropout = options_.dropout();
  return net;
}

// A block's layer depends only on its own candidate: its input shape is its slot's (a skip
// keeps the shape). The layers before and after the blocks depend on no gene.
std::vector<LayerPart> MobileNetSpace::layer_parts() const {
  int first_op = 0;
  while (options_.candidates()[static_cast<size_t>(first_op)].skip) ++first_op;
  const std::vector<int> base(slots_.size(), first_op);
  std::vector<std::string> before, after;
  bool past_blocks = false;
  for (const auto& l : do_layers(base, input_shape())) {
    const bool is_block = std::any_of(choices_.begin(), choices_.end(), [&](const Choice& c) { return c.name == l.name; });
    past_blocks = past_blocks || is_block;
    if (!is_block) (past_blocks ? after : before).push_back(l.name);
  }
  std::vector<LayerPart> parts{named_layer_part({}, before, base)};
  for (size_t i = 0; i < slots_.size(); ++i) parts.push_back(named_layer_part({static_cast<int>(i)}, {choices_[i].name}, base));
  parts.push_back(named_layer_part({}, after, base));
  return parts;
}

std::vector<LayerSpec> MobileNetSpace::do_layers(const std::vector<int>& genes, const Shape& input) const {
  return chain_layers(network(genes), input);
}

std::shared_ptr<nn::Network> MobileNetSpace::do_build(const std::vector<int>& genes,
                                                      const BuildOptions& options) const {
  auto net = network(genes);
  if (options.dropout() > 0) net.dropout = options.dropout();
  return build_chain(net, options);
}

std::shared_ptr<nn::Supernet> MobileNetSpace::do_supernet(const SupernetOptions& options) const {
  // The largest block per slot and group count: max kernel and max expand over the
  // candidates with that group count.
  ChainNet largest = network(std::vector<int>(slots_.size(), 0));
  largest.blocks.clear();
  if (options_.has_first_block()) largest.blocks.push_back(options_.first_block());
  std::map<int64_t, std::pair<int64_t, int64_t>> by_groups;  // groups -> (kernel, expand)
  for (const auto& c : options_.candidates()) {
    if (c.skip) continue;
    auto& [k, e] = by_groups[c.groups];
    k = std::max(k, c.kernel);
    e = std::max(e, c.expand);
  }
  for (size_t i = 0; i < slots_.size(); ++i) {
    for (const auto& [g, ke] : by_groups) {
      // One family of weights per group count. A candidate with expand 1 has no expand
      // conv and runs on the first `in` channels of the family's depthwise weights.
      Candidate c;
      c.kernel = ke.first;
      c.expand = ke.second;
      c.groups = g;
      largest.blocks.push_back(block(i, c));
    }
  }
  // Differentiable search mixes each slot's candidates on these weights.
  MixedChain mixed;
  if (options_.has_first_block()) mixed.fixed.push_back(options_.first_block());
  for (size_t i = 0; i < slots_.size(); ++i) {
    auto& options = mixed.options.emplace_back();
    auto& allowed = mixed.allowed.emplace_back();
    for (const auto& c : options_.candidates()) {
      options.push_back(c.skip ? std::nullopt : std::optional<BlockSpec>(block(i, c)));
      allowed.push_back(!c.skip || slots_[i].skippable);
    }
  }
  auto self = std::make_shared<MobileNetSpace>(*this);
  return build_mixed_chain_supernet(self, largest, [self](const std::vector<int>& g) { return self->network(g); },
                                    std::move(mixed), options.build());
}

std::vector<LayerSpec> MobileNetSpace::do_layer_universe() const {
  // A block's layer depends only on its slot and candidate (skips keep shapes), so the
  // archs "every block takes candidate c" (or the first op where c is not allowed) cover all.
  int first_op = 0;
  while (options_.candidates()[static_cast<size_t>(first_op)].skip) ++first_op;
  std::vector<LayerSpec> out;
  for (size_t c = 0; c < options_.candidates().size(); ++c) {
    std::vector<int> genes;
    for (const auto& slot : slots_)
      genes.push_back(options_.candidates()[c].skip && !slot.skippable ? first_op : static_cast<int>(c));
    auto layers = chain_layers(network(genes), input_shape());
    out.insert(out.end(), layers.begin(), layers.end());
  }
  return out;
}

void register_mobilenet(SpaceRegistry& registry) {
  registry.add("mobilenet", MobileNetSpace().description(), [](const nlohmann::json& config) {
    return std::make_unique<MobileNetSpace>(MobileNetOptions::from_json(config));
  });
}

// The chain: stem, each searchable block's candidate (skips included), head.
Drawing MobileNetSpace::do_drawing(const std::vector<int>& genes) const {
  Drawing d;
  d.kind = "chain";
  Drawing::Graph g{"blocks", {{"stem", "stem " + std::to_string(options_.stem_channels())}}, {}};
  for (size_t i = 0; i < choices_.size(); ++i) {
    g.nodes.push_back({choices_[i].name, choices_[i].name + ": " + choices_[i].options[static_cast<size_t>(genes[i])]});
    g.edges.push_back({g.nodes[g.nodes.size() - 2].id, g.nodes.back().id, ""});
  }
  g.nodes.push_back({"head", "head"});
  g.edges.push_back({g.nodes[g.nodes.size() - 2].id, "head", ""});
  d.graphs.push_back(std::move(g));
  return d;
}

}  // namespace hwnas::spaces
