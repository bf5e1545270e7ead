#include "hwnas/search_spaces/ofa/ofa.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "hwnas/core/json_number.h"
#include "hwnas/core/error.h"
#include "hwnas/core/option_fields.h"
#include "hwnas/core/json.h"
#include "hwnas/cost/layer_kind.h"
#include "hwnas/search_spaces/registry.h"

namespace hwnas::spaces {

const std::vector<int64_t> OfaSpace::kKernels = {3, 5, 7};
const std::vector<int64_t> OfaSpace::kExpands = {3, 4, 6};
const std::vector<int64_t> OfaSpace::kDepths = {2, 3, 4};

namespace {
constexpr int kE = OfaSpace::kBlocks;       // genes[kE + i]: expand index of block i
constexpr int kD = 2 * OfaSpace::kBlocks;   // genes[kD + s]: depth index of stage s
constexpr int kR = kD + OfaSpace::kStages;  // genes[kR]: resolution index
const int64_t kStride[OfaSpace::kStages] = {2, 2, 2, 1, 2};
const Act kAct[OfaSpace::kStages] = {Act::kRelu, Act::kRelu, Act::kHswish, Act::kHswish, Act::kHswish};
const bool kSe[OfaSpace::kStages] = {false, true, false, true, true};

std::string join(const std::vector<int64_t>& v) {
  std::string s;
  for (auto x : v) s += (s.empty() ? "" : ", ") + std::to_string(x);
  return s;
}

int index_of(const std::vector<int64_t>& values, int64_t v) {
  for (size_t i = 0; i < values.size(); ++i)
    if (values[i] == v) return static_cast<int>(i);
  return -1;
}

std::string hwc(const Shape& s) { return std::to_string(s.h) + "x" + std::to_string(s.w) + "x" + std::to_string(s.c); }
}  // namespace

std::vector<int64_t> OfaOptions::default_resolutions() {
  std::vector<int64_t> r;
  for (int64_t x = 128; x <= 224; x += 4) r.push_back(x);
  return r;
}

void OfaOptions::validate() const {
  options::check(*this, "ofa space config");
  HWNAS_CHECK_T(ConfigError, !resolutions().empty(), "The ofa space needs at least one resolution");
  for (size_t i = 1; i < resolutions().size(); ++i)
    HWNAS_CHECK_T(ConfigError, resolutions()[i] > resolutions()[i - 1],
                  "Expected the ofa 'resolutions' in increasing order, but got ", join(resolutions()));
}

OfaOptions OfaOptions::from_json(const nlohmann::json& config) {
  auto o = options::read<OfaOptions>(config, "ofa space config");
  o.validate();
  return o;
}

nlohmann::json OfaOptions::to_json() const { return options::write(*this); }

OfaSpace::OfaSpace(OfaOptions options) : options_(std::move(options)) {
  options_.validate();
  register_builtin_layer_kinds();  // so this space's layers are costed and profiled
  for (double base : {16, 16, 24, 40, 80, 112, 160}) widths_.push_back(make_divisible(base * options_.width_mult()));
  final_width_ = make_divisible(960 * options_.width_mult());
  last_width_ = make_divisible(1280 * options_.width_mult());
  auto labels = [](const std::vector<int64_t>& v) {
    std::vector<std::string> out;
    for (auto x : v) out.push_back(std::to_string(x));
    return out;
  };
  for (int i = 0; i < kBlocks; ++i) choices_.push_back({"ks" + std::to_string(i), labels(kKernels)});
  for (int i = 0; i < kBlocks; ++i) choices_.push_back({"e" + std::to_string(i), labels(kExpands)});
  for (int s = 0; s < kStages; ++s) choices_.push_back({"d" + std::to_string(s), labels(kDepths)});
  choices_.push_back({"r", labels(options_.resolutions())});
}

std::string OfaSpace::description() const {
  return "Once-for-All MobileNetV3 (Cai et al. 2020): depth, kernel, expand per block, resolution";
}

Shape OfaSpace::input_shape() const { return {3, options_.resolutions().back(), options_.resolutions().back()}; }

Shape OfaSpace::arch_input_shape(const std::vector<int>& genes) const {
  const int64_t r = options_.resolutions()[static_cast<size_t>(genes[kR])];
  return {3, r, r};
}

void OfaSpace::check_input_shape(const Shape& in) const {
  HWNAS_CHECK_T(ConfigError, in.c == 3, "The ofa space takes 3-channel images, but got input shape ", in.str());
  SearchSpace::check_input_shape(in);
}

double OfaSpace::size() const {
  double per_stage = 0;
  for (auto d : kDepths) per_stage += std::pow(9.0, static_cast<double>(d));
  return std::pow(per_stage, kStages) * static_cast<double>(options_.resolutions().size());
}

std::vector<int> OfaSpace::canonicalize(std::vector<int> genes) const {
  for (int s = 0; s < kStages; ++s)
    for (int64_t j = kDepths[static_cast<size_t>(genes[kD + s])]; j < kMaxDepth; ++j) {
      genes[static_cast<size_t>(s * kMaxDepth + j)] = 0;
      genes[static_cast<size_t>(kE + s * kMaxDepth + j)] = 0;
    }
  return genes;
}

nlohmann::json OfaSpace::to_ofa_json(const Arch& arch) const {
  validate(arch);
  const auto& g = arch.genes();
  nlohmann::json ks = nlohmann::json::array(), e = nlohmann::json::array(), d = nlohmann::json::array();
  for (int i = 0; i < kBlocks; ++i) {
    ks.push_back(kKernels[static_cast<size_t>(g[static_cast<size_t>(i)])]);
    e.push_back(kExpands[static_cast<size_t>(g[static_cast<size_t>(kE + i)])]);
  }
  for (int s = 0; s < kStages; ++s) d.push_back(kDepths[static_cast<size_t>(g[static_cast<size_t>(kD + s)])]);
  return {{"ks", ks}, {"e", e}, {"d", d}, {"r", {options_.resolutions()[static_cast<size_t>(g[kR])]}}};
}

std::string OfaSpace::genes_to_string(const std::vector<int>& genes) const {
  auto list = [](const std::vector<int64_t>& values, const std::vector<int>& g, int from, int n) {
    std::string s = "[";
    for (int i = 0; i < n; ++i)
      s += (i ? "," : "") + std::to_string(values[static_cast<size_t>(g[static_cast<size_t>(from + i)])]);
    return s + "]";
  };
  return "{\"ks\":" + list(kKernels, genes, 0, kBlocks) + ",\"e\":" + list(kExpands, genes, kE, kBlocks) +
         ",\"d\":" + list(kDepths, genes, kD, kStages) + ",\"r\":[" +
         std::to_string(options_.resolutions()[static_cast<size_t>(genes[kR])]) + "]}";
}

std::vector<int> OfaSpace::parse_genes(const std::string& text) const {
  nlohmann::json j;
  try {
    j = parse_json(text, "the ofa arch");
  } catch (const ParseError& e) {
    throw ParseError(detail::concat("Invalid ofa arch '", text.substr(0, 200),
                                    "': expected {\"ks\": [20 kernels], \"e\": [20 expands], \"d\": [5 "
                                    "depths], \"r\": [resolution]} (",
                                    e.what(), ")"));
  }
  return genes_from_json(j);
}

std::vector<int> OfaSpace::genes_from_json(const nlohmann::json& j) const {
  const std::string form = "expected {\"ks\": [20 of 3|5|7], \"e\": [20 of 3|4|6], \"d\": [5 of 2|3|4], \"r\": [one of " +
                           join(options_.resolutions()) + "]}";
  HWNAS_CHECK_T(ParseError, j.is_object(), "Invalid ofa arch ", j.dump(), ": ", form);
  for (const auto& [key, value] : j.items())
    HWNAS_CHECK_T(ParseError, key == "ks" || key == "e" || key == "d" || key == "r" || key == "space",
                  "Invalid ofa arch: unknown field '", key, "'; ", form);
  std::vector<int> genes(static_cast<size_t>(kR + 1), 0);
  auto read = [&](const char* field, const std::vector<int64_t>& allowed, size_t n, int offset) {
    HWNAS_CHECK_T(ParseError, j.contains(field), "Invalid ofa arch: field '", field, "' is missing; ", form);
    const auto& v = j[field];
    HWNAS_CHECK_T(ParseError, v.is_array() && v.size() == n, "Invalid ofa arch: '", field, "' must be a list of ", n,
                  " values, but got ", v.dump());
    for (size_t i = 0; i < n; ++i) {
      const int idx = v[i].is_number_integer() ? index_of(allowed, json_integer<int64_t>(v[i], field)) : -1;
      HWNAS_CHECK_T(ParseError, idx >= 0, "Invalid ofa arch: ", field, "[", i, "] is ", v[i].dump(),
                    "; allowed: ", join(allowed));
      genes[static_cast<size_t>(offset) + i] = idx;
    }
  };
  read("ks", kKernels, kBlocks, 0);
  read("e", kExpands, kBlocks, kE);
  read("d", kDepths, kStages, kD);
  nlohmann::json r = j.contains("r") && j["r"].is_number_integer() ? nlohmann::json::array({j["r"]}) : j.value("r", nlohmann::json());
  HWNAS_CHECK_T(ParseError, r.is_array() && r.size() == 1 && r[0].is_number_integer(),
                "Invalid ofa arch: 'r' must be [resolution], but got ", r.dump(), "; ", form);
  const int ri = index_of(options_.resolutions(), json_integer<int64_t>(r[0], "resolution"));
  HWNAS_CHECK_T(ParseError, ri >= 0, "Invalid ofa arch: resolution ", r[0].dump(), " is off the grid; allowed: ",
                join(options_.resolutions()));
  genes[kR] = ri;
  return genes;
}

ChainNet OfaSpace::network(const std::vector<int>& genes) const {
  ChainNet net;
  net.input_channels = 3;
  net.stem_channels = widths_[0];
  net.stem_kernel = 3;
  net.stem_stride = 2;
  net.stem_act = Act::kHswish;
  BlockSpec first;
  first.slot = "first";
  first.in = widths_[0];
  first.out = widths_[1];
  first.kernel = 3;
  first.stride = 1;
  first.mid = widths_[0];
  first.act = Act::kRelu;
  first.expand_conv = false;
  first.residual = first.in == first.out;
  net.blocks.push_back(first);
  int64_t in = widths_[1];
  for (int s = 0; s < kStages; ++s) {
    const int64_t depth = kDepths[static_cast<size_t>(genes[static_cast<size_t>(kD + s)])];
    const int64_t out = widths_[static_cast<size_t>(s + 2)];
    for (int64_t j = 0; j < depth; ++j) {
      const size_t i = static_cast<size_t>(s * kMaxDepth + j);
      BlockSpec b;
      b.slot = "s" + std::to_string(s + 1) + "b" + std::to_string(j);
      b.in = in;
      b.out = out;
      b.kernel = kKernels[static_cast<size_t>(genes[i])];
      b.stride = j == 0 ? kStride[s] : 1;
      b.mid = in * kExpands[static_cast<size_t>(genes[kE + i])];  // OFA: round(in * e)
      b.act = kAct[s];
      b.expand_conv = true;
      b.se_mid = kSe[s] ? make_divisible(static_cast<double>(b.mid / 4)) : 0;
      b.residual = j > 0;
      net.blocks.push_back(b);
      in = out;
    }
  }
  net.final_channels = final_width_;
  net.final_act = Act::kHswish;
  net.mix_channels = last_width_;
  net.mix_act = Act::kHswish;
  net.num_classes = options_.num_classes();
  return net;
}

std::vector<LayerSpec> OfaSpace::do_layers(const std::vector<int>& genes, const Shape& input) const {
  return chain_layers(network(genes), input);
}

// Each block depends only on its own settings, its stage's depth (whether it is there) and
// the resolution; the stem and the head only on the resolution.
std::vector<LayerPart> OfaSpace::layer_parts() const {
  const std::vector<int> base(choices().size(), 0);
  std::vector<LayerPart> parts{named_layer_part({kR}, {"stem", "first"}, base)};
  for (int s = 0; s < kStages; ++s)
    for (int j = 0; j < kMaxDepth; ++j) {
      const int i = s * kMaxDepth + j;
      parts.push_back(named_layer_part({i, kE + i, kD + s, kR}, {"s" + std::to_string(s + 1) + "b" + std::to_string(j)}, base));
    }
  parts.push_back(named_layer_part({kR}, {"final_expand", "global_pooling", "feature_mix", "classifier"}, base));
  return parts;
}

std::vector<float> OfaSpace::do_encode(const std::vector<int>& genes) const {
  // OFA's accuracy-predictor features: kernel one-hot (60), expand one-hot (60) per block
  // slot, zero beyond a stage's depth; resolution one-hot at (r - 112) / 16 (8).
  std::vector<float> v(128, 0.0f);
  for (int s = 0; s < kStages; ++s) {
    const int64_t depth = kDepths[static_cast<size_t>(genes[static_cast<size_t>(kD + s)])];
    for (int64_t j = 0; j < depth; ++j) {
      const size_t i = static_cast<size_t>(s * kMaxDepth + j);
      v[i * 3 + static_cast<size_t>(genes[i])] = 1.0f;
      v[60 + i * 3 + static_cast<size_t>(genes[kE + i])] = 1.0f;
    }
  }
  const int64_t r = options_.resolutions()[static_cast<size_t>(genes[kR])];
  const int64_t slot = (r - 112) / 16;
  HWNAS_CHECK_T(ConfigError, slot >= 0 && slot < 8, "OFA's encoding covers resolutions 112..239, but the arch has ", r);
  v[120 + static_cast<size_t>(slot)] = 1.0f;
  return v;
}

std::shared_ptr<nn::Network> OfaSpace::do_build(const std::vector<int>& genes, const BuildOptions& options) const {
  auto net = network(genes);
  net.dropout = options.dropout();
  return build_chain(net, options);
}

std::shared_ptr<nn::Supernet> OfaSpace::do_supernet(const SupernetOptions& options) const {
  std::vector<int> largest(static_cast<size_t>(kR + 1), 0);
  for (int i = 0; i < kBlocks; ++i) {
    largest[static_cast<size_t>(i)] = static_cast<int>(kKernels.size()) - 1;
    largest[static_cast<size_t>(kE + i)] = static_cast<int>(kExpands.size()) - 1;
  }
  for (int s = 0; s < kStages; ++s) largest[static_cast<size_t>(kD + s)] = static_cast<int>(kDepths.size()) - 1;
  auto self = std::make_shared<OfaSpace>(*this);
  return build_chain_supernet(self, network(largest), [self](const std::vector<int>& g) { return self->network(g); },
                              options.build());
}

std::vector<LayerSpec> OfaSpace::do_layer_universe() const {
  // A block's layer depends on its slot, kernel, expand and the resolution only (depth
  // drops later blocks without changing earlier ones): full depth, every uniform (k, e).
  std::vector<LayerSpec> out;
  for (size_t r = 0; r < options_.resolutions().size(); ++r)
    for (size_t k = 0; k < kKernels.size(); ++k)
      for (size_t e = 0; e < kExpands.size(); ++e) {
        std::vector<int> genes(static_cast<size_t>(kR + 1), 0);
        for (int i = 0; i < kBlocks; ++i) {
          genes[static_cast<size_t>(i)] = static_cast<int>(k);
          genes[static_cast<size_t>(kE + i)] = static_cast<int>(e);
        }
        for (int s = 0; s < kStages; ++s) genes[static_cast<size_t>(kD + s)] = static_cast<int>(kDepths.size()) - 1;
        genes[kR] = static_cast<int>(r);
        auto layers = chain_layers(network(genes), arch_input_shape(genes));
        out.insert(out.end(), layers.begin(), layers.end());
      }
  return out;
}

std::string OfaSpace::ofa_lut_key(const LayerSpec& l) {
  const std::string io = "-input:" + hwc(l.input) + "-output:" + hwc(l.output);
  if (l.kind == "mbconv")
    return "expanded_conv" + io + "-expand:" + std::to_string(l.attr("mid")) + "-kernel:" + std::to_string(l.attr("k")) +
           "-stride:" + std::to_string(l.attr("s")) + "-idskip:" + std::to_string(l.attr("res")) +
           "-se:" + std::to_string(l.attr("se") > 0 ? 1 : 0) +
           "-hs:" + std::to_string(l.attr("act") == static_cast<int64_t>(Act::kHswish) ? 1 : 0);
  if (l.kind == "conv_bn_act" && l.name == "stem") return "Conv" + io;
  if (l.kind == "conv_bn_act" && l.name == "final_expand") return "Conv_1" + io;
  if (l.kind == "global_avg_pool") return "AvgPool2D" + io;
  if (l.kind == "conv_act" && l.name == "feature_mix") return "Conv_2" + io;
  if (l.kind == "linear") return "Logits-input:" + hwc(l.input) + "-output:" + std::to_string(l.output.c);
  throw NotFoundError(detail::concat("Layer '", l.key(), "' (", l.name, ") has no OFA latency-table key"));
}

void register_ofa(SpaceRegistry& registry) {
  registry.add("ofa", OfaSpace().description(), [](const nlohmann::json& config) {
    return std::make_unique<OfaSpace>(OfaOptions::from_json(config));
  });
}

void register_ofa_key_format() {
  cost::key_format_registry().add("ofa", "Once-for-All latency-table keys (tables from LatencyTable::from_ofa_yaml)",
                                  [](const nlohmann::json&) {
                                    return std::make_unique<cost::KeyFormat>(cost::KeyFormat{&OfaSpace::ofa_lut_key, false});
                                  });
}

// The chain of active blocks (each stage's first `depth`), labelled k<kernel>_e<expand>.
Drawing OfaSpace::do_drawing(const std::vector<int>& genes) const {
  Drawing d;
  d.kind = "chain";
  Drawing::Graph g{"blocks at " + std::to_string(options_.resolutions()[static_cast<size_t>(genes[kR])]) + "px",
                   {{"stem", "stem"}}, {}};
  for (int s = 0; s < kStages; ++s)
    for (int64_t j = 0; j < kDepths[static_cast<size_t>(genes[static_cast<size_t>(kD + s)])]; ++j) {
      const auto i = static_cast<size_t>(s * kMaxDepth + j);
      g.nodes.push_back({"s" + std::to_string(s + 1) + "b" + std::to_string(j + 1),
                         "k" + std::to_string(kKernels[static_cast<size_t>(genes[i])]) + "_e" +
                             std::to_string(kExpands[static_cast<size_t>(genes[kE + i])])});
      g.edges.push_back({g.nodes[g.nodes.size() - 2].id, g.nodes.back().id, ""});
    }
  g.nodes.push_back({"head", "head"});
  g.edges.push_back({g.nodes[g.nodes.size() - 2].id, "head", ""});
  d.graphs.push_back(std::move(g));
  return d;
}

}  // namespace hwnas::spaces
