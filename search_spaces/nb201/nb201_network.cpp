// The standalone LibTorch network of a NAS-Bench-201 arch (same module structure and
// parameter count as the benchmark's TinyNetwork with InferCell) and the weight-sharing
// supernet (every op on every edge). Both register their modules under the same names,
// so a standalone model's weights are the same-named supernet tensors.
#include <torch/torch.h>

#include "hwnas/cost/layer_kind.h"
#include "hwnas/nn/mixed.h"
#include "hwnas/nn/network.h"
#include "hwnas/nn/ops.h"
#include "hwnas/nn/supernet.h"
#include "hwnas/search_spaces/nb201/nb201.h"

namespace hwnas::spaces {
namespace {

using nn::ConvBn;
using nn::ConvBnOptions;

std::shared_ptr<nn::Op> make_edge_op(int op, int64_t c, const BuildOptions& bn) {
  switch (op) {
    case 1: return std::make_shared<nn::Identity>();
    case 2: return std::make_shared<ConvBn>(ConvBnOptions(c, c, 1).relu_first(true).bn(bn));
    case 3: return std::make_shared<ConvBn>(ConvBnOptions(c, c, 3).relu_first(true).bn(bn));
    case 4: return std::make_shared<nn::Pool>(nn::Pool::Kind::kAvg, 3, 1);
    default: return nullptr;  // "none": contributes nothing to the sum
  }
}

// A cell holding, per edge, the modules of the ops in `ops[e]` (one for a standalone
// model, all five for the supernet), named "edge<e>_<op>".
class Nb201Cell : public torch::nn::Module {
 public:
  Nb201Cell(const std::vector<std::vector<int>>& ops, int64_t c, const BuildOptions& bn) {
    edges_.resize(ops.size());
    for (size_t e = 0; e < ops.size(); ++e) {
      edges_[e].resize(Nb201Space::kOps.size());
      for (int op : ops[e]) {
        auto m = make_edge_op(op, c, bn);
        if (m) register_module("edge" + std::to_string(e) + "_" + Nb201Space::kOps[op], m);
        edges_[e][static_cast<size_t>(op)] = m;
      }
    }
  }

  // Node j sums its edges' mixtures (a standalone model: one op per edge, weight 1). With
  // partial channels K, only the first C/K channels enter the ops; the rest bypass.
  torch::Tensor forward(const torch::Tensor& x, const std::vector<nn::MixedChoice>& path, int64_t partial) {
    torch::Tensor nodes[4] = {x, {}, {}, {}};
    for (int node = 1; node <= 3; ++node) {
      torch::Tensor sum;
      for (size_t e = 0; e < edges_.size(); ++e) {
        const auto [to, from] = Nb201Space::kEdges[e];
        if (to != node) continue;
        auto y = edge(e, nodes[from], path[e], partial);
        if (y.defined()) sum = sum.defined() ? sum + y : y;
      }
      nodes[node] = sum.defined() ? sum : torch::zeros_like(x);
    }
    return nodes[3];
  }

 private:
  torch::Tensor edge(size_t e, const torch::Tensor& x, const nn::MixedChoice& choice, int64_t partial) {
    if (partial == 1)
      return nn::mix(choice, [&](int k) { return run(e, k, x); });
    const int64_t c = x.size(1), part = c / partial;
    auto head = x.narrow(1, 0, part);
    auto y = nn::mix(choice, [&](int k) { return run(e, k, head, part); });
    if (!y.defined()) y = torch::zeros_like(head);
    return nn::channel_shuffle(torch::cat({y, x.narrow(1, part, c - part)}, 1), partial);
  }

  // Op k of edge e; undefined for "none". `channels` > 0 runs a conv on that many channels.
  torch::Tensor run(size_t e, int k, const torch::Tensor& x, int64_t channels = 0) {
    const auto& op = edges_[e][static_cast<size_t>(k)];
    if (!op) return {};
    if (channels > 0)
      if (auto* conv = dynamic_cast<ConvBn*>(op.get())) return conv->forward_sliced(x, channels);
    return op->forward(x);
  }

  std::vector<std::vector<std::shared_ptr<nn::Op>>> edges_;
};

// Residual reduction block between stages: ReLUConvBN 3x3/2, ReLUConvBN 3x3, and the
// shortcut AvgPool 2x2/2 + conv 1x1.
class Nb201ResBlock : public torch::nn::Module {
 public:
  Nb201ResBlock(int64_t in, int64_t out, const BuildOptions& bn) {
    conv_a_ = register_module(
        "conv_a", std::make_shared<ConvBn>(ConvBnOptions(in, out, 3).stride(2).relu_first(true).bn(bn)));
    conv_b_ = register_module(
        "conv_b", std::make_shared<ConvBn>(ConvBnOptions(out, out, 3).relu_first(true).bn(bn)));
    downsample_ = register_module(
        "downsample", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1).bias(false)));
  }

  torch::Tensor forward(const torch::Tensor& x) {
    auto shortcut = downsample_->forward(torch::avg_pool2d(x, {2, 2}, {2, 2}));
    return conv_b_->forward(conv_a_->forward(x)) + shortcut;
  }

 private:
  std::shared_ptr<ConvBn> conv_a_, conv_b_;
  torch::nn::Conv2d downsample_{nullptr};
};

// The modules of an nb201 network, registered into `owner` (a Network or the Supernet).
class Nb201Body {
 public:
  Nb201Body(torch::nn::Module& owner, const std::vector<std::vector<int>>& ops, const Nb201Options& o,
            const BuildOptions& bn)
      : dropout_(bn.dropout()) {
    int64_t c = o.channels();
    stem_ = owner.register_module("stem", std::make_shared<ConvBn>(ConvBnOptions(o.input_channels(), c, 3).bn(bn)));
    auto cells = owner.register_module("cells", torch::nn::ModuleList());
    for (int stage = 0; stage < 3; ++stage) {
      if (stage > 0) {
        auto r = std::make_shared<Nb201ResBlock>(c, 2 * c, bn);
        cells->push_back(r);
        layers_.push_back({nullptr, r});
        c *= 2;
      }
      for (int64_t i = 0; i < o.cells_per_stage(); ++i) {
        auto cell = std::make_shared<Nb201Cell>(ops, c, bn);
        cells->push_back(cell);
        layers_.push_back({cell, nullptr});
      }
    }
    lastact_ = owner.register_module("lastact", torch::nn::BatchNorm2d(nn::batch_norm_options(c, bn)));
    classifier_ = owner.register_module("classifier", torch::nn::Linear(c, o.num_classes()));
  }

  torch::Tensor forward(const torch::Tensor& x, const std::vector<nn::MixedChoice>& path, int64_t partial,
                        bool training) {
    auto h = stem_->forward(x);
    for (auto& [cell, reduction] : layers_) h = cell ? cell->forward(h, path, partial) : reduction->forward(h);
    h = torch::relu(lastact_->forward(h));
    h = torch::adaptive_avg_pool2d(h, {1, 1}).flatten(1);
    if (dropout_ > 0) h = torch::dropout(h, dropout_, training);
    return classifier_->forward(h);
  }

 private:
  double dropout_;
  std::shared_ptr<ConvBn> stem_;
  std::vector<std::pair<std::shared_ptr<Nb201Cell>, std::shared_ptr<Nb201ResBlock>>> layers_;
  torch::nn::BatchNorm2d lastact_{nullptr};
  torch::nn::Linear classifier_{nullptr};
};

std::vector<std::vector<int>> chosen_ops(const std::vector<int>& genes) {
  std::vector<std::vector<int>> ops;
  for (int g : genes) ops.push_back({g});
  return ops;
}

std::vector<nn::MixedChoice> single_path(const std::vector<int>& genes) {
  std::vector<nn::MixedChoice> path(genes.size());
  for (size_t e = 0; e < genes.size(); ++e) path[e].active = {genes[e]};
  return path;
}

class Nb201Network : public nn::Network {
 public:
  Nb201Network(const std::vector<int>& genes, const Nb201Options& o, const BuildOptions& bn)
      : path_(single_path(genes)), body_(*this, chosen_ops(genes), o, bn) {}
  torch::Tensor forward(const torch::Tensor& x) override { return body_.forward(x, path_, 1, is_training()); }

 private:
  std::vector<nn::MixedChoice> path_;
  Nb201Body body_;
};

std::vector<std::vector<int>> all_ops() {
  std::vector<int> every(Nb201Space::kOps.size());
  for (size_t i = 0; i < every.size(); ++i) every[i] = static_cast<int>(i);
  return std::vector<std::vector<int>>(Nb201Space::kEdges.size(), every);
}

class Nb201Supernet : public nn::MixedSupernet {
 public:
  Nb201Supernet(const Nb201Space& space, const BuildOptions& bn)
      : space_(space), body_(*this, all_ops(), space.options(), bn) {}
  const SearchSpace& space() const override { return space_; }
  bool supports_partial_channels() const override { return true; }

 protected:
  torch::Tensor do_forward_mixed(const torch::Tensor& x, const std::vector<nn::MixedChoice>& path,
                                 int64_t partial) override {
    HWNAS_CHECK_T(ConfigError, space_.options().channels() % partial == 0, "partial_channels ", partial,
                  " does not divide the nb201 supernet's ", space_.options().channels(), " channels");
    return body_.forward(x, path, partial, is_training());
  }

 private:
  Nb201Space space_;
  Nb201Body body_;
};

}  // namespace

namespace {
class ResBlockLayer : public nn::Op {
 public:
  ResBlockLayer(int64_t in, int64_t out, const BuildOptions& bn) {
    block_ = register_module("block", std::make_shared<Nb201ResBlock>(in, out, bn));
  }
  torch::Tensor forward(const torch::Tensor& x) override { return block_->forward(x); }

 private:
  std::shared_ptr<Nb201ResBlock> block_;
};

// The residual reduction block: ReLUConvBN 3x3 stride s, ReLUConvBN 3x3, shortcut
// AvgPool 2x2 + conv 1x1 (no BN).
cost::LayerCost resblock_cost(const LayerSpec& l) {
  const int64_t ci = l.input.c, co = l.output.c, hw = l.output.h * l.output.w;
  const int64_t params = (9 * ci * co + 2 * co) + (9 * co * co + 2 * co) + ci * co;
  const int64_t macs = hw * (9 * ci * co + 9 * co * co + ci * co);
  return {params, macs};
}
}  // namespace

void register_nb201_layer_kinds() {
  cost::register_layer_kind(
      "nb201_resblock", "NAS-Bench-201 residual reduction block between stages",
      {resblock_cost, [](const LayerSpec& l) { return l.output.numel(); },
       {}, [](const LayerSpec& l) {
         std::shared_ptr<nn::Op> op = std::make_shared<ResBlockLayer>(l.input.c, l.output.c, BuildOptions());
         op->eval();
         return op;
       }});
}

std::shared_ptr<nn::Network> Nb201Space::do_build(const std::vector<int>& genes,
                                                  const BuildOptions& options) const {
  return std::make_shared<Nb201Network>(live_genes(genes), options_, options);
}

std::shared_ptr<nn::Supernet> Nb201Space::do_supernet(const SupernetOptions& options) const {
  return std::make_shared<Nb201Supernet>(*this, options.build());
}

}  // namespace hwnas::spaces
