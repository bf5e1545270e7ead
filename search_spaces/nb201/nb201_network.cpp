// The standalone LibTorch network of a NAS-Bench-201 arch (same module structure and
// parameter count as the benchmark's TinyNetwork with InferCell).
#include <torch/torch.h>

#include "hwnas/nn/network.h"
#include "hwnas/nn/ops.h"
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

class Nb201Cell : public nn::Op {
 public:
  Nb201Cell(const std::vector<int>& genes, int64_t c, const BuildOptions& bn) {
    for (size_t e = 0; e < Nb201Space::kEdges.size(); ++e) {
      auto op = make_edge_op(genes[e], c, bn);
      if (op) register_module("edge" + std::to_string(e), op);
      edges_.push_back(op);
    }
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    torch::Tensor nodes[4] = {x, {}, {}, {}};
    for (int node = 1; node <= 3; ++node) {
      torch::Tensor sum;
      for (size_t e = 0; e < edges_.size(); ++e) {
        const auto [to, from] = Nb201Space::kEdges[e];
        if (to != node || !edges_[e]) continue;
        auto y = edges_[e]->forward(nodes[from]);
        sum = sum.defined() ? sum + y : y;
      }
      nodes[node] = sum.defined() ? sum : torch::zeros_like(x);
    }
    return nodes[3];
  }

 private:
  std::vector<std::shared_ptr<nn::Op>> edges_;
};

// Residual reduction block between stages: ReLUConvBN 3x3/2, ReLUConvBN 3x3, and the
// shortcut AvgPool 2x2/2 + conv 1x1.
class Nb201ResBlock : public nn::Op {
 public:
  Nb201ResBlock(int64_t in, int64_t out, const BuildOptions& bn) {
    conv_a_ = register_module(
        "conv_a", std::make_shared<ConvBn>(ConvBnOptions(in, out, 3).stride(2).relu_first(true).bn(bn)));
    conv_b_ = register_module(
        "conv_b", std::make_shared<ConvBn>(ConvBnOptions(out, out, 3).relu_first(true).bn(bn)));
    downsample_ = register_module(
        "downsample", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1).bias(false)));
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    auto shortcut = downsample_->forward(torch::avg_pool2d(x, {2, 2}, {2, 2}));
    return conv_b_->forward(conv_a_->forward(x)) + shortcut;
  }

 private:
  std::shared_ptr<ConvBn> conv_a_, conv_b_;
  torch::nn::Conv2d downsample_{nullptr};
};

class Nb201Network : public nn::Network {
 public:
  Nb201Network(const std::vector<int>& genes, const Nb201Options& o, const BuildOptions& bn)
      : dropout_(bn.dropout()) {
    int64_t c = o.channels();
    stem_ = register_module("stem", std::make_shared<ConvBn>(ConvBnOptions(o.input_channels(), c, 3).bn(bn)));
    cells_ = register_module("cells", torch::nn::ModuleList());
    for (int stage = 0; stage < 3; ++stage) {
      if (stage > 0) {
        push(std::make_shared<Nb201ResBlock>(c, 2 * c, bn));
        c *= 2;
      }
      for (int64_t i = 0; i < o.cells_per_stage(); ++i) push(std::make_shared<Nb201Cell>(genes, c, bn));
    }
    lastact_ = register_module("lastact", torch::nn::BatchNorm2d(nn::batch_norm_options(c, bn)));
    classifier_ = register_module("classifier", torch::nn::Linear(c, o.num_classes()));
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    auto h = stem_->forward(x);
    for (auto& cell : ops_) h = cell->forward(h);
    h = torch::relu(lastact_->forward(h));
    h = torch::adaptive_avg_pool2d(h, {1, 1}).flatten(1);
    if (dropout_ > 0) h = torch::dropout(h, dropout_, is_training());
    return classifier_->forward(h);
  }

 private:
  void push(std::shared_ptr<nn::Op> op) {
    cells_->push_back(op);
    ops_.push_back(std::move(op));
  }

  double dropout_;
  std::shared_ptr<ConvBn> stem_;
  torch::nn::ModuleList cells_{nullptr};
  std::vector<std::shared_ptr<nn::Op>> ops_;
  torch::nn::BatchNorm2d lastact_{nullptr};
  torch::nn::Linear classifier_{nullptr};
};

}  // namespace

std::shared_ptr<nn::Network> Nb201Space::do_build(const std::vector<int>& genes,
                                                  const BuildOptions& options) const {
  return std::make_shared<Nb201Network>(genes, options_, options);
}

}  // namespace hwnas::spaces
