// A space with a layer kind hwnas does not have, written outside the library: a small CNN
// for 28x28 images whose two blocks each choose a 3x3 conv, a 5x5 conv or spatial
// self-attention ("spatial_attention", registered here). With the kind registered, the
// analytic model counts its parameters and MACs, the profiler times it into a latency
// table, searches constrain its latency, and the exporters write it; nothing in hwnas
// changes. The ONNX exporter has no conversion for aten::transpose and aten::view_as,
// which attention needs, so this file registers them.
//
//   ./custom_layer_kind tour             # costs vs. the built network, TorchScript + ONNX export, a profiling kit
//   ./custom_layer_kind profile --space attn -o attn_cpu.json   # any hwnas command
//   ./custom_layer_kind tour attn_cpu.json   # also: the most MACs under the median latency
// The tour exits 1 if a check fails (CI runs all three).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <numeric>

#include <fmt/format.h>
#include <torch/torch.h>

#include "hwnas/cli/cli.h"
#include "hwnas/cost/latency_table.h"
#include "hwnas/experiment/runner.h"
#include "hwnas/export/kit.h"
#include "hwnas/export/onnx.h"
#include "hwnas/export/torchscript.h"
#include "hwnas/hwnas.h"
#include "hwnas/nn/network.h"
#include "hwnas/nn/ops.h"

namespace {

namespace tn = torch::nn;

// Self-attention over the H*W positions: 1x1 query, key and value convs (with bias),
// softmax(Q^T K / sqrt(C)) weighting the values, a 1x1 output projection, a residual.
struct SpatialAttentionImpl : tn::Module {
  explicit SpatialAttentionImpl(int64_t c)
      : q(register_module("q", tn::Conv2d(c, c, 1))), k(register_module("k", tn::Conv2d(c, c, 1))),
        v(register_module("v", tn::Conv2d(c, c, 1))), proj(register_module("proj", tn::Conv2d(c, c, 1))),
        scale(1.0 / std::sqrt(static_cast<double>(c))) {}
  torch::Tensor forward(const torch::Tensor& x) {
    auto qs = q->forward(x).flatten(2), ks = k->forward(x).flatten(2), vs = v->forward(x).flatten(2);  // B x C x N
    auto attn = torch::softmax(torch::matmul(qs.transpose(1, 2), ks) * scale, -1);                      // B x N x N
    return x + proj->forward(torch::matmul(vs, attn.transpose(1, 2)).view_as(x));
  }
  tn::Conv2d q, k, v, proj;
  double scale;
};
TORCH_MODULE(SpatialAttention);

// The block as one layer of the cost models (an nn::Op: one input, one output).
struct AttentionLayer : hwnas::nn::Op {
  explicit AttentionLayer(int64_t c) : m(register_module("m", SpatialAttention(c))) {}
  torch::Tensor forward(const torch::Tensor& x) override { return m->forward(x); }
  SpatialAttention m;
};

// The kind's analytic cost: four 1x1 convs with bias, and the two N x N x C products.
hwnas::cost::LayerCost attention_cost(const hwnas::LayerSpec& l) {
  const int64_t c = l.input.c, n = l.input.h * l.input.w;
  return {4 * (c * c + c), 4 * c * c * n + 2 * n * n * c};
}

void register_attention_kind() {
  hwnas::cost::LayerKind kind;
  kind.cost = attention_cost;
  kind.intermediate = [](const hwnas::LayerSpec& l) { return l.input.h * l.input.w * l.input.h * l.input.w; };
  // One layer as a module: the profiler times it, a profiling kit exports it.
  kind.build = [](const hwnas::LayerSpec& l) -> std::shared_ptr<hwnas::nn::Op> {
    auto op = std::make_shared<AttentionLayer>(l.input.c);
    op->eval();
    return op;
  };
  hwnas::cost::register_layer_kind("spatial_attention", "Self-attention over the feature map (example)", kind);
  // aten::transpose(x, dim0, dim1) is ONNX's Transpose with those two axes swapped.
  hwnas::exporting::register_onnx_op("aten::transpose", [](hwnas::exporting::OnnxNodeWriter& w) {
    std::vector<int64_t> perm(w.input_sizes(0).size());
    std::iota(perm.begin(), perm.end(), 0);
    const auto rank = static_cast<int64_t>(perm.size());
    auto axis = [rank](int64_t d) { return static_cast<size_t>(d < 0 ? d + rank : d); };
    std::swap(perm[axis(w.int_input(1))], perm[axis(w.int_input(2))]);
    w.add("Transpose", {w.input(0)}, {w.output()}).ints("perm", perm);
  });
  // aten::view_as(x, other): x reshaped to other's run-time shape.
  hwnas::exporting::register_onnx_op("aten::view_as", [](hwnas::exporting::OnnxNodeWriter& w) {
    const auto shape = w.temp();
    w.add("Shape", {w.input(1)}, {shape});
    w.add("Reshape", {w.input(0), shape}, {w.output()});
  });
}

const std::vector<std::string> kWidths = {"8", "16"}, kOps = {"conv3", "conv5", "attn"};

void add_conv_bn_relu(tn::Sequential& seq, int64_t in, int64_t out, int64_t k, int64_t s) {
  seq->push_back(tn::Conv2d(tn::Conv2dOptions(in, out, k).stride(s).padding(k / 2).bias(false)));
  seq->push_back(tn::BatchNorm2d(out));
  seq->push_back(tn::ReLU());
}

class AttnNet : public hwnas::nn::Network {
 public:
  AttnNet(int64_t w, const std::string& op1, const std::string& op2) {
    add_conv_bn_relu(body_, 1, w, 3, 2);  // 14x14
    add_block(w, op1);
    add_conv_bn_relu(body_, w, 2 * w, 3, 2);  // 7x7
    add_block(2 * w, op2);
    register_module("body", body_);
    fc_ = register_module("fc", tn::Linear(2 * w, 10));
  }
  torch::Tensor forward(const torch::Tensor& x) override { return fc_->forward(body_->forward(x).mean({2, 3})); }

 private:
  void add_block(int64_t c, const std::string& op) {
    if (op == "attn")
      body_->push_back(SpatialAttention(c));
    else
      add_conv_bn_relu(body_, c, c, op == "conv3" ? 3 : 5, 1);
  }
  tn::Sequential body_;
  tn::Linear fc_{nullptr};
};

class AttnSpace : public hwnas::SearchSpace {
 public:
  AttnSpace() : choices_{{"width", kWidths}, {"block1", kOps}, {"block2", kOps}} {}
  std::string name() const override { return "attn"; }
  std::string description() const override { return "2-block CNN with conv or self-attention blocks (example)"; }
  nlohmann::json config() const override { return nlohmann::json::object(); }
  const std::vector<hwnas::Choice>& choices() const override { return choices_; }
  hwnas::Shape input_shape() const override { return {1, 28, 28}; }

 protected:
  // Canonical string: "w<width>-<op1>-<op2>", e.g. "w16-conv3-attn".
  std::string genes_to_string(const std::vector<int>& g) const override {
    return "w" + kWidths[g[0]] + "-" + kOps[g[1]] + "-" + kOps[g[2]];
  }
  std::vector<int> parse_genes(const std::string& s) const override {
    for (int w = 0; w < 2; ++w)
      for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b)
          if (genes_to_string({w, a, b}) == s) return {w, a, b};
    throw hwnas::ParseError("Invalid attn arch '" + s + "': expected w<8|16>-<op>-<op> with ops conv3, conv5, attn");
  }
  std::vector<hwnas::LayerSpec> do_layers(const std::vector<int>& g, const hwnas::Shape& in) const override {
    const int64_t w = std::stoll(kWidths[g[0]]);
    const hwnas::Shape a{w, 14, 14}, b{2 * w, 7, 7};
    std::vector<hwnas::LayerSpec> out;
    auto conv = [&out](const hwnas::Shape& i, const hwnas::Shape& o, int64_t k, int64_t s, const std::string& name) {
      out.emplace_back("conv_bn_act", i, o, std::vector<std::pair<std::string, int64_t>>{{"act", 1}, {"k", k}, {"s", s}}, name);
    };
    auto block = [&](const hwnas::Shape& s, int gene, const std::string& name) {
      if (kOps[gene] == "attn")
        out.emplace_back("spatial_attention", s, s, std::vector<std::pair<std::string, int64_t>>{}, name);
      else
        conv(s, s, kOps[gene] == "conv3" ? 3 : 5, 1, name);
    };
    conv(in, a, 3, 2, "stem");
    block(a, g[1], "block1");
    conv(a, b, 3, 2, "down");
    block(b, g[2], "block2");
    out.emplace_back("global_avg_pool", b, hwnas::Shape{b.c, 1, 1});
    out.emplace_back("linear", hwnas::Shape{b.c, 1, 1}, hwnas::Shape{10, 1, 1});
    return out;
  }
  std::shared_ptr<hwnas::nn::Network> do_build(const std::vector<int>& g, const hwnas::BuildOptions&) const override {
    return std::make_shared<AttnNet>(std::stoll(kWidths[g[0]]), kOps[g[1]], kOps[g[2]]);
  }

 private:
  std::vector<hwnas::Choice> choices_;
};

// A search for the arch with the most MACs whose latency (from a profiled table of this
// device) is at most the median over the space; checked against brute force.
bool constrained_search(const std::string& table_path, const std::string& output) {
  auto space = hwnas::make_space("attn");
  auto table = std::make_shared<hwnas::cost::LatencyTable>(hwnas::cost::LatencyTable::load(table_path));
  hwnas::cost::LatencyModel latency(table, std::shared_ptr<const hwnas::SearchSpace>(hwnas::make_space("attn")));
  const auto archs = space->enumerate();
  std::vector<double> ms;
  for (const auto& a : archs) ms.push_back(latency.predict(a));
  auto sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  const double limit = std::ceil(sorted[sorted.size() / 2] * 1e6) / 1e6;  // as the constraint writes it
  int64_t best_macs = -1;
  for (size_t i = 0; i < archs.size(); ++i)
    if (ms[i] <= limit) best_macs = std::max(best_macs, hwnas::cost::network_cost(space->layers(archs[i])).macs);

  hwnas::experiment::ExperimentConfig config;
  // Random search never repeats an arch while others are left: 18 evaluations see them all,
  // so the result is exact whatever this machine's latencies are.
  config.space("attn")
      .strategy("random")
      .latency_tables({{"here", table_path}})
      .objectives({{"macs", hwnas::strategy::Direction::kMaximize}})
      .constraints({fmt::format("latency@here <= {:.6f} ms", limit)})
      .budget(hwnas::experiment::Budget().evaluations(static_cast<int64_t>(archs.size())))
      .seed(1)
      .output(output);
  const auto result = hwnas::experiment::Experiment(config).run(hwnas::experiment::RunOptions().overwrite(true));
  const auto& best = *result.best;
  std::cout << "search: best " << best.arch.str() << " with " << best.metrics.at("macs") << " MACs at "
            << best.metrics.at("latency@here") << " ms (limit " << limit << " ms; brute force: " << best_macs
            << " MACs)\n";
  return best.feasible() && static_cast<int64_t>(best.metrics.at("macs")) == best_macs;
}

}  // namespace

int main(int argc, char** argv) {
  register_attention_kind();
  hwnas::space_registry().add("attn", AttnSpace().description(),
                              [](const nlohmann::json&) { return std::make_unique<AttnSpace>(); });
  if (argc < 2 || std::string(argv[1]) != "tour") return hwnas::cli::run_main(argc, argv);  // every command knows "attn"

  // The analytic model counts what the built network holds, attention included.
  auto space = hwnas::make_space("attn");
  bool ok = true;
  for (const auto& arch : space->enumerate()) {
    const auto cost = hwnas::cost::network_cost(space->layers(arch));
    const auto built = hwnas::nn::count_parameters(*space->build(arch));
    ok = ok && cost.params == built;
    std::cout << arch.str() << "  params " << cost.params << " (built " << built << ")  MACs " << cost.macs << "\n";
  }
  // Both exporters write the attention network; ONNX through the transpose conversion above.
  const auto arch = space->parse("w8-attn-attn");
  auto net = space->build(arch);
  hwnas::exporting::save_torchscript(*net, space->input_shape_of(arch), "attn.pt");
  const auto report = hwnas::exporting::save_onnx(*net, space->input_shape_of(arch), "attn.onnx");
  std::cout << "exported " << arch.str() << " to attn.pt and attn.onnx (" << report.ops.at("Transpose")
            << " Transpose nodes, " << report.nodes << " nodes)\n";
  // A profiling kit for another device holds the attention layers too (LayerKind::build).
  const auto kit = hwnas::exporting::write_profiling_kit(
      *space, hwnas::exporting::KitOptions().dir("attn_kit").archs(2).overwrite(std::filesystem::exists("attn_kit")));
  int64_t attention_layers = 0, in_kit = 0;
  for (const auto& l : space->layer_universe()) attention_layers += l.kind == "spatial_attention";
  const auto manifest = nlohmann::json::parse(std::ifstream("attn_kit/manifest.json"));
  for (const auto& e : manifest.at("layers"))
    in_kit += e.at("kind") == "spatial_attention" && std::filesystem::exists("attn_kit/" + e.at("onnx").get<std::string>());
  std::cout << "profiling kit attn_kit: " << kit.layers << " layers (" << in_kit << " of " << attention_layers
            << " attention layers as ONNX and TorchScript), " << kit.networks << " networks\n";
  ok = ok && attention_layers > 0 && in_kit == attention_layers;
  if (argc > 2) ok = constrained_search(argv[2], "attn_search") && ok;
  return ok ? 0 : 1;
}
