#include "hwnas/export/kit.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <set>

#include "core/fnv1a.h"
#include "hwnas/core/error.h"
#include "hwnas/core/io.h"
#include "hwnas/core/random.h"
#include "hwnas/cost/layer_kind.h"
#include "hwnas/export/onnx.h"
#include "hwnas/export/torchscript.h"
#include "hwnas/nn/network.h"
#include "hwnas/nn/ops.h"
#include "hwnas/version.h"

namespace hwnas::exporting {
namespace fs = std::filesystem;

void KitProtocol::validate() const {
  HWNAS_CHECK_T(ConfigError, warmup() >= 0 && warmup() <= 100000, "kit protocol warmup is ", warmup(),
                "; give 0 to 100000 untimed runs");
  HWNAS_CHECK_T(ConfigError, repetitions() >= 1 && repetitions() <= 1000000, "kit protocol repetitions is ",
                repetitions(), "; give 1 to 1000000 timed runs");
}

void KitOptions::validate() const {
  HWNAS_CHECK_T(ConfigError, !dir().empty(), "the profiling kit needs a folder (--kit DIR)");
  HWNAS_CHECK_T(ConfigError, archs() >= 0 && archs() <= 100000, "kit archs is ", archs(),
                "; give 0 to 100000 whole networks (--archs)");
  HWNAS_CHECK_T(ConfigError, batch() >= 1 && batch() <= 4096, "kit batch is ", batch(), "; give 1 to 4096 (--batch)");
  HWNAS_CHECK_T(ConfigError, opset() >= 13 && opset() <= 17, "kit opset is ", opset(), "; give 13 to 17 (--opset)");
  protocol().validate();
}

namespace {

// One layer as a network: what the exporters take.
class LayerNetwork : public nn::Network {
 public:
  explicit LayerNetwork(std::shared_ptr<nn::Op> op) : op_(register_module("layer", std::move(op))) {}
  torch::Tensor forward(const torch::Tensor& x) override { return op_->forward(x); }

 private:
  std::shared_ptr<nn::Op> op_;
};

// The per-call overhead model: its output is its input.
class IdentityNetwork : public nn::Network {
 public:
  torch::Tensor forward(const torch::Tensor& x) override { return x; }
};

nlohmann::json input_of(int64_t batch, const Shape& s) { return {batch, s.c, s.h, s.w}; }

// Both files of one model; returns its manifest entry and adds its models.tsv row.
nlohmann::json save_model(nn::Network& net, const Shape& input, const std::string& dir, const std::string& folder,
                          const std::string& id, const char* what, const KitOptions& o, uint64_t seed, std::string& tsv) {
  const auto ts = folder + "/" + id + ".pt", onnx = folder + "/" + id + ".onnx";
  save_torchscript(net, input, (fs::path(dir) / ts).string(), TorchScriptOptions().seed(seed));
  save_onnx(net, input, (fs::path(dir) / onnx).string(), OnnxOptions().opset(o.opset()).seed(seed).graph_name(id));
  tsv += fmt::format("{}\t{}\t{}\t{}\t{}x{}x{}x{}\n", id, what, ts, onnx, o.batch(), input.c, input.h, input.w);
  return {{"id", id}, {"input", input_of(o.batch(), input)}, {"torchscript", ts}, {"onnx", onnx}};
}

}  // namespace

KitReport write_profiling_kit(const SearchSpace& space, const KitOptions& o) {
  o.validate();
  check_output_free(o.dir(), o.overwrite(), "profiling kit", /*want_directory=*/true);
  HWNAS_CHECK_T(ConfigError, !fs::exists(o.dir()) || fs::exists(fs::path(o.dir()) / "manifest.json"), "overwrite (--overwrite): '",
                o.dir(), "' is not a profiling kit (no manifest.json); it is left alone: choose another folder");
  KitReport report;
  report.dir = o.dir();

  // The layers a kit holds: every distinct one whose kind builds a module.
  std::vector<LayerSpec> layers;
  std::set<std::string> skipped;
  for (const auto& l : space.layer_universe()) {
    if (cost::layer_kind(l).build) layers.push_back(l);
    else skipped.insert(l.kind);
  }
  report.skipped_kinds.assign(skipped.begin(), skipped.end());
  std::vector<Arch> archs;
  {
    Rng rng(o.seed());
    std::set<std::string> seen;
    for (const auto& text : o.networks()) {
      Arch a = [&] {
        try {
          return space.parse(text);
        } catch (const Error& e) {
          throw ConfigError(fmt::format("kit network '{}' is not an arch of space {}: {}; give canonical arch strings "
                                        "of the space (hwnas sample)", text, space.name(), e.what()));
        }
      }();
      HWNAS_CHECK_T(ConfigError, seen.insert(a.str()).second, "kit network '", text, "' is given twice; give each arch once");
      archs.push_back(std::move(a));
    }
    const auto size = space.size();
    const int64_t want = size > 0 && static_cast<double>(o.archs()) > static_cast<double>(size)
                             ? static_cast<int64_t>(size) : o.archs();
    const auto given = static_cast<int64_t>(archs.size());
    for (int64_t tries = 0; static_cast<int64_t>(archs.size()) < given + want && tries < 100 * (want + 1); ++tries) {
      auto a = space.sample(rng);
      if (seen.insert(a.str()).second) archs.push_back(std::move(a));
    }
  }
  const int64_t total = static_cast<int64_t>(layers.size() + archs.size());
  int64_t done = 0;
  const auto progress = [&](const std::string& id) {
    if (o.on_progress()) o.on_progress()(++done, total, id);
  };

  StagedDirectory staged(o.dir(), o.overwrite());
  fs::create_directories(fs::path(staged.path()) / "layers");
  fs::create_directories(fs::path(staged.path()) / "networks");
  // A runner times this identity model first: its time is the runtime's cost of one call
  // (small layers take microseconds), on the smallest input of the kit.
  Shape smallest = space.input_shape();
  for (const auto& l : layers)
    if (l.input.numel() < smallest.numel()) smallest = l.input;
  IdentityNetwork identity;
  std::string rows;  // models.tsv after its first line
  auto overhead = save_model(identity, smallest, staged.path(), "layers", "OVERHEAD", "overhead", o, o.seed(), rows);
  nlohmann::json layer_entries = nlohmann::json::array(), network_entries = nlohmann::json::array();
  for (size_t i = 0; i < layers.size(); ++i) {
    const auto& l = layers[i];
    const auto id = fmt::format("L{:04d}", i + 1);
    const uint64_t seed = o.seed() + i;
    std::shared_ptr<LayerNetwork> net;
    {
      TorchSeedScope scope(seed);
      net = std::make_shared<LayerNetwork>(cost::build_layer(l));
    }
    try {
      auto e = save_model(*net, l.input, staged.path(), "layers", id, "layer", o, seed, rows);
      e["key"] = l.key();
      e["kind"] = l.kind;
      layer_entries.push_back(std::move(e));
    } catch (const Error& err) {
      throw Error(fmt::format("profiling kit: layer {} ({}) cannot be exported: {}", id, l.key(), err.what()));
    }
    progress(id);
  }
  for (size_t i = 0; i < archs.size(); ++i) {
    const auto id = fmt::format("N{:04d}", i + 1);
    const uint64_t seed = o.seed() + 1000003 * (i + 1);
    auto net = space.build(archs[i], BuildOptions().seed(seed));
    try {
      auto e = save_model(*net, space.input_shape_of(archs[i]), staged.path(), "networks", id, "network", o, seed, rows);
      e["arch"] = archs[i].str();
      network_entries.push_back(std::move(e));
    } catch (const Error& err) {
      throw Error(fmt::format("profiling kit: network {} ({}) cannot be exported: {}", id, archs[i].str(), err.what()));
    }
    progress(id);
  }

  nlohmann::json manifest = {
      {"format", "hwnas-profiling-kit"},
      {"version", 1},
      {"hwnas_version", kVersion},
      {"space", space.name()},
      {"space_config", space.config()},
      {"batch", o.batch()},
      {"dtype", "float32"},
      {"layout", "NCHW"},
      {"opset", o.opset()},
      {"seed", o.seed()},
      {"protocol",
       {{"warmup", o.protocol().warmup()},
        {"repetitions", o.protocol().repetitions()},
        {"statistic", "median"},
        {"unit", "ms"},
        {"input", "one fixed random input of the model's shape, made before the warm-up"},
        {"timing", "each timed run alone (one inference, waited for), wall clock around it"},
        {"overhead", "the identity model \"overhead\" timed the same way: the runtime's cost of a call, reported "
                     "beside the results as measured; hwnas table import-kit subtracts it from each layer and adds it "
                     "once per network"}}},
      {"skipped_kinds", report.skipped_kinds},
      {"overhead", overhead},
      {"layers", layer_entries},
      {"networks", network_entries}};
  // What a result must have been measured on: the models and the protocol.
  report.fingerprint = fmt::format("{:016x}", hwnas::detail::fnv1a(manifest.dump()));
  manifest["fingerprint"] = report.fingerprint;
  write_file_atomic((fs::path(staged.path()) / "manifest.json").string(), manifest.dump(2) + "\n");
  const auto tsv = fmt::format("# hwnas-profiling-kit 1 {} warmup {} repetitions {}\n", report.fingerprint,
                                o.protocol().warmup(), o.protocol().repetitions()) + rows;
  write_file_atomic((fs::path(staged.path()) / "models.tsv").string(), tsv);
  staged.commit();
  report.layers = static_cast<int64_t>(layer_entries.size());
  report.networks = static_cast<int64_t>(network_entries.size());
  return report;
}

}  // namespace hwnas::exporting
