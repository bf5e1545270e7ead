// Layers, standalone network (the paper's NetworkCIFAR) and weight-sharing supernet (every
// op on every (node, input) edge) of the DARTS space. Both networks register their modules
// under the same names, so a standalone model's weights are the same-named supernet tensors.
#include <algorithm>
#include <map>
#include <tuple>

#include <torch/torch.h>

#include "hwnas/core/error.h"
#include "hwnas/cost/layer_kind.h"
#include "hwnas/nn/drop_path.h"
#include "hwnas/nn/mixed.h"
#include "hwnas/nn/network.h"
#include "hwnas/nn/ops.h"
#include "hwnas/nn/supernet.h"
#include "hwnas/search_spaces/darts/darts.h"

namespace hwnas::spaces {
namespace {

namespace tn = torch::nn;
using Attrs = std::vector<std::pair<std::string, int64_t>>;
enum Op { kNone, kMaxPool, kAvgPool, kSkip, kSep3, kSep5, kDil3, kDil5 };

// ReLU, depthwise kxk (stride, dilation), pointwise 1x1, BN.
class DilConv : public nn::Op {
 public:
  DilConv(int64_t c_in, int64_t c_out, int64_t k, int64_t stride, int64_t dilation, const BuildOptions& bn) {
    dw_ = register_module("dw", tn::Conv2d(tn::Conv2dOptions(c_in, c_in, k).stride(stride).padding(dilation * (k - 1) / 2)
                                              .dilation(dilation).groups(c_in).bias(false)));
    pw_ = register_module("pw", tn::Conv2d(tn::Conv2dOptions(c_in, c_out, 1).bias(false)));
    bn_ = register_module("bn", tn::BatchNorm2d(nn::batch_norm_options(c_out, bn)));
  }
  torch::Tensor forward(const torch::Tensor& x) override { return bn_->forward(pw_->forward(dw_->forward(torch::relu(x)))); }
  // On the first `c` channels of its weights (PC-DARTS' partial channels).
  torch::Tensor forward_sliced(const torch::Tensor& x, int64_t c) {
    const auto& o = dw_->options;
    const int64_t k = (*o.kernel_size())[0], d = (*o.dilation())[0];
    auto h = torch::conv2d(torch::relu(x), dw_->weight.narrow(0, 0, c), torch::Tensor(), *o.stride(), d * (k - 1) / 2,
                           d, c);
    h = torch::conv2d(h, pw_->weight.narrow(0, 0, c).narrow(1, 0, c));
    return nn::sliced_batch_norm(*bn_, h, c, is_training());
  }

 private:
  tn::Conv2d dw_{nullptr}, pw_{nullptr};
  tn::BatchNorm2d bn_{nullptr};
};

// Two DilConvs with dilation 1, the first with the stride (DARTS' SepConv).
class SepConv : public nn::Op {
 public:
  SepConv(int64_t c, int64_t k, int64_t stride, const BuildOptions& bn) {
    a_ = register_module("a", std::make_shared<DilConv>(c, c, k, stride, 1, bn));
    b_ = register_module("b", std::make_shared<DilConv>(c, c, k, 1, 1, bn));
  }
  torch::Tensor forward(const torch::Tensor& x) override { return b_->forward(a_->forward(x)); }
  torch::Tensor forward_sliced(const torch::Tensor& x, int64_t c) { return b_->forward_sliced(a_->forward_sliced(x, c), c); }

 private:
  std::shared_ptr<DilConv> a_, b_;
};

// ReLU, two 1x1 stride-2 convs (the second shifted by one pixel), concatenated, BN.
class FactorizedReduce : public nn::Op {
 public:
  FactorizedReduce(int64_t c_in, int64_t c_out, const BuildOptions& bn) {
    HWNAS_CHECK_T(ConfigError, c_out % 2 == 0, "FactorizedReduce needs an even channel count, got ", c_out);
    conv1_ = register_module("conv1", tn::Conv2d(tn::Conv2dOptions(c_in, c_out / 2, 1).stride(2).bias(false)));
    conv2_ = register_module("conv2", tn::Conv2d(tn::Conv2dOptions(c_in, c_out / 2, 1).stride(2).bias(false)));
    bn_ = register_module("bn", tn::BatchNorm2d(nn::batch_norm_options(c_out, bn)));
  }
  torch::Tensor forward(const torch::Tensor& x) override {
    using torch::indexing::Slice;
    auto h = torch::relu(x);
    return bn_->forward(torch::cat({conv1_->forward(h), conv2_->forward(h.index({Slice(), Slice(), Slice(1), Slice(1)}))}, 1));
  }
  torch::Tensor forward_sliced(const torch::Tensor& x, int64_t c) {
    using torch::indexing::Slice;
    auto h = torch::relu(x);
    auto w1 = conv1_->weight.narrow(0, 0, c / 2).narrow(1, 0, c), w2 = conv2_->weight.narrow(0, 0, c / 2).narrow(1, 0, c);
    auto y = torch::cat({torch::conv2d(h, w1, torch::Tensor(), 2),
                         torch::conv2d(h.index({Slice(), Slice(), Slice(1), Slice(1)}), w2, torch::Tensor(), 2)}, 1);
    return nn::sliced_batch_norm(*bn_, y, c, is_training());
  }

 private:
  tn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  tn::BatchNorm2d bn_{nullptr};
};

std::shared_ptr<nn::Op> make_op(int op, int64_t c, int64_t stride, const BuildOptions& bn) {
  switch (op) {
    case kNone: return std::make_shared<nn::Zero>(stride);
    case kMaxPool: return std::make_shared<nn::Pool>(nn::Pool::Kind::kMax, 3, stride);
    case kAvgPool: return std::make_shared<nn::Pool>(nn::Pool::Kind::kAvg, 3, stride);
    case kSkip:
      if (stride == 1) return std::make_shared<nn::Identity>();
      return std::make_shared<FactorizedReduce>(c, c, bn);
    case kSep3: return std::make_shared<SepConv>(c, 3, stride, bn);
    case kSep5: return std::make_shared<SepConv>(c, 5, stride, bn);
    case kDil3: return std::make_shared<DilConv>(c, c, 3, stride, 2, bn);
    case kDil5: return std::make_shared<DilConv>(c, c, 5, stride, 2, bn);
  }
  HWNAS_INTERNAL_ASSERT(false, "unknown darts op ", op);
  return nullptr;
}

std::string edge_name(int node, int input, int op) {
  return "n" + std::to_string(node) + "_" + std::to_string(input) + "_" + DartsSpace::kOps[static_cast<size_t>(op)];
}

// A cell with modules for a set of (node, input, op) edges: the chosen ones for a standalone
// model, every one for the supernet.
class DartsCell : public torch::nn::Module {
 public:
  using Edges = std::vector<std::array<int, 3>>;  // (node, input, op)
  DartsCell(const Edges& edges, int64_t c_pp, int64_t c_p, int64_t c, bool reduction, bool reduction_prev,
            const BuildOptions& bn)
      : reduction_(reduction) {
    if (reduction_prev)
      pre0_ = register_module("pre0", std::make_shared<FactorizedReduce>(c_pp, c, bn));
    else
      pre0_ = register_module("pre0", std::make_shared<nn::ConvBn>(nn::ConvBnOptions(c_pp, c, 1).relu_first(true).bn(bn)));
    pre1_ = register_module("pre1", std::make_shared<nn::ConvBn>(nn::ConvBnOptions(c_p, c, 1).relu_first(true).bn(bn)));
    for (const auto& [node, input, op] : edges) {
      const std::string name = edge_name(node, input, op);
      if (ops_.count(name)) continue;
      ops_[name] = register_module(name, make_op(op, c, reduction && input < 2 ? 2 : 1, bn));
    }
  }

  // `pairs`: for each node, its two (op, input). In training mode with drop_path > 0, each
  // op's output but an identity's is zeroed per sample with that probability (kept ones
  // scaled by 1 / (1 - p)), as DARTS trains its final networks.
  torch::Tensor forward(const torch::Tensor& s0, const torch::Tensor& s1, const std::vector<std::array<int, 4>>& pairs,
                        double drop_path = 0) {
    std::vector<torch::Tensor> states{pre0_->forward(s0), pre1_->forward(s1)};
    auto edge = [&](int node, int op, int input) {
      auto h = ops_.at(edge_name(node, input, op))->forward(states[static_cast<size_t>(input)]);
      const bool identity = op == kSkip && !(reduction_ && input < 2);
      if (drop_path > 0 && is_training() && !identity) {
        const auto keep = torch::empty({h.size(0), 1, 1, 1}, h.options()).bernoulli_(1 - drop_path);
        h = h / (1 - drop_path) * keep;
      }
      return h;
    };
    for (int node = 0; node < DartsSpace::kNodes; ++node) {
      const auto& p = pairs[static_cast<size_t>(node)];
      states.push_back(edge(node, p[0], p[1]) + edge(node, p[2], p[3]));
    }
    return torch::cat({states[2], states[3], states[4], states[5]}, 1);
  }

  // The mixture over every (node, input) edge: path[kEdgeOffset[node] + input]. With
  // partial channels K, the first C/K channels go through the ops and the rest bypass
  // (max-pooled 2x2 on reduction edges), then the channels are shuffled.
  torch::Tensor forward_mixed(const torch::Tensor& s0, const torch::Tensor& s1, const nn::MixedChoice* path,
                              int64_t partial) {
    std::vector<torch::Tensor> states{pre0_->forward(s0), pre1_->forward(s1)};
    for (int node = 0; node < DartsSpace::kNodes; ++node) {
      torch::Tensor sum;
      for (int input = 0; input < node + 2; ++input) {
        const auto& choice = path[edge_offset(node) + input];
        const auto& x = states[static_cast<size_t>(input)];
        auto run = [&](const torch::Tensor& in, int op, int64_t c) -> torch::Tensor {
          if (op == kNone) return {};
          auto& m = ops_.at(edge_name(node, input, op));
          if (c > 0) {
            if (auto* sep = dynamic_cast<SepConv*>(m.get())) return sep->forward_sliced(in, c);
            if (auto* dil = dynamic_cast<DilConv*>(m.get())) return dil->forward_sliced(in, c);
            if (auto* fr = dynamic_cast<FactorizedReduce*>(m.get())) return fr->forward_sliced(in, c);
          }
          return m->forward(in);
        };
        torch::Tensor y;
        if (partial == 1) {
          y = nn::mix(choice, [&](int op) { return run(x, op, 0); });
          if (!y.defined()) y = ops_.at(edge_name(node, input, kNone))->forward(x);
        } else {
          const int64_t c = x.size(1), part = c / partial;
          auto head = x.narrow(1, 0, part);
          y = nn::mix(choice, [&](int op) { return run(head, op, part); });
          if (!y.defined()) y = ops_.at(edge_name(node, input, kNone))->forward(head);
          auto rest = x.narrow(1, part, c - part);
          if (y.size(2) != rest.size(2)) rest = torch::max_pool2d(rest, {2, 2}, {2, 2}, {0, 0}, {1, 1}, /*ceil_mode=*/true);
          y = nn::channel_shuffle(torch::cat({y, rest}, 1), partial);
        }
        sum = sum.defined() ? sum + y : y;
      }
      states.push_back(sum);
    }
    return torch::cat({states[2], states[3], states[4], states[5]}, 1);
  }

  static int edge_offset(int node) { return node * (node + 3) / 2; }  // 0, 2, 5, 9

 private:
  bool reduction_;
  std::shared_ptr<nn::Op> pre0_, pre1_;
  std::map<std::string, std::shared_ptr<nn::Op>> ops_;
};

// Per cell type (0 normal, 1 reduce) and node: (op a, input a, op b, input b).
std::vector<std::array<int, 4>> cell_pairs(const std::vector<int>& genes, int cell) {
  std::vector<std::array<int, 4>> out;
  for (int node = 0; node < DartsSpace::kNodes; ++node) {
    const size_t g = static_cast<size_t>(cell * 16 + node * 4);
    out.push_back({genes[g], genes[g + 1], genes[g + 2], genes[g + 3]});
  }
  return out;
}

// Geometry of the stacked network: per cell, its type and channels.
struct CellPlan {
  bool reduction, reduction_prev;
  int64_t c_pp, c_p, c;
};
std::vector<CellPlan> plan(const DartsOptions& o, int64_t* c_aux, int64_t* c_last) {
  std::vector<CellPlan> cells;
  int64_t c_pp = 3 * o.channels(), c_p = 3 * o.channels(), c = o.channels();
  bool reduction_prev = false;
  for (int64_t i = 0; i < o.layers(); ++i) {
    const bool reduction = i == o.layers() / 3 || i == 2 * o.layers() / 3;
    if (reduction) c *= 2;
    cells.push_back({reduction, reduction_prev, c_pp, c_p, c});
    reduction_prev = reduction;
    c_pp = c_p;
    c_p = 4 * c;
    if (i == 2 * o.layers() / 3) *c_aux = c_p;
  }
  *c_last = c_p;
  return cells;
}

class DartsBody {
 public:
  DartsBody(torch::nn::Module& owner, const std::array<DartsCell::Edges, 2>& edges, const DartsOptions& o,
            const BuildOptions& bn)
      : layers_(o.layers()), dropout_(bn.dropout()) {
    int64_t c_aux = 0, c_last = 0;
    auto cells = plan(o, &c_aux, &c_last);
    stem_ = owner.register_module("stem", std::make_shared<nn::ConvBn>(nn::ConvBnOptions(o.input_channels(), 3 * o.channels(), 3).bn(bn)));
    auto list = owner.register_module("cells", tn::ModuleList());
    for (const auto& p : cells) {
      auto cell = std::make_shared<DartsCell>(edges[p.reduction ? 1 : 0], p.c_pp, p.c_p, p.c, p.reduction, p.reduction_prev, bn);
      list->push_back(cell);
      cells_.push_back({cell, p.reduction});
    }
    if (o.auxiliary()) {
      aux_ = owner.register_module("auxiliary", tn::Sequential(
          tn::Functional(torch::relu),
          tn::AvgPool2d(tn::AvgPool2dOptions(5).stride(3).padding(0).count_include_pad(false)),
          tn::Conv2d(tn::Conv2dOptions(c_aux, 128, 1).bias(false)), tn::BatchNorm2d(nn::batch_norm_options(128, bn)),
          tn::Functional(torch::relu), tn::Conv2d(tn::Conv2dOptions(128, 768, 2).bias(false)),
          tn::BatchNorm2d(nn::batch_norm_options(768, bn)), tn::Functional(torch::relu), tn::Flatten(),
          tn::Linear(768, o.num_classes())));
    }
    classifier_ = owner.register_module("classifier", tn::Linear(c_last, o.num_classes()));
  }

  // path: the normal cell's 14 edges, then the reduction cell's.
  torch::Tensor forward_mixed(const torch::Tensor& x, const std::vector<nn::MixedChoice>& path, int64_t partial) {
    auto s0 = stem_->forward(x), s1 = s0;
    for (const auto& [cell, reduction] : cells_) {
      auto next = cell->forward_mixed(s0, s1, path.data() + (reduction ? kEdges : 0), partial);
      s0 = s1;
      s1 = next;
    }
    return classifier_->forward(s1.mean({2, 3}));
  }

  static constexpr int kEdges = 14;  // (node, input) edges per cell

  torch::Tensor forward(const torch::Tensor& x, const std::vector<int>& genes, bool training, torch::Tensor* aux,
                        double drop_path = 0) {
    const auto normal = cell_pairs(genes, 0), reduce = cell_pairs(genes, 1);
    auto s0 = stem_->forward(x), s1 = s0;
    for (size_t i = 0; i < cells_.size(); ++i) {
      auto next = cells_[i].first->forward(s0, s1, cells_[i].second ? reduce : normal, drop_path);
      s0 = s1;
      s1 = next;
      if (aux && aux_ && training && static_cast<int64_t>(i) == 2 * layers_ / 3) *aux = aux_->forward(s1);
    }
    auto h = s1.mean({2, 3});
    if (dropout_ > 0) h = torch::dropout(h, dropout_, training);
    return classifier_->forward(h);
  }

 private:
  int64_t layers_;
  double dropout_;
  std::shared_ptr<nn::ConvBn> stem_;
  std::vector<std::pair<std::shared_ptr<DartsCell>, bool>> cells_;
  tn::Sequential aux_{nullptr};
  tn::Linear classifier_{nullptr};
};

std::array<DartsCell::Edges, 2> chosen_edges(const std::vector<int>& genes) {
  std::array<DartsCell::Edges, 2> edges;
  for (int c = 0; c < 2; ++c)
    for (int k = 0; k < DartsSpace::kNodes * 2; ++k)
      edges[static_cast<size_t>(c)].push_back({k / 2, genes[static_cast<size_t>(c * 16 + k * 2 + 1)],
                                               genes[static_cast<size_t>(c * 16 + k * 2)]});
  return edges;
}

std::array<DartsCell::Edges, 2> all_edges() {
  DartsCell::Edges e;
  for (int node = 0; node < DartsSpace::kNodes; ++node)
    for (int input = 0; input < node + 2; ++input)
      for (int op = 0; op < static_cast<int>(DartsSpace::kOps.size()); ++op) e.push_back({node, input, op});
  return {e, e};
}

class DartsNetwork : public nn::Network, public nn::DropPath {
 public:
  DartsNetwork(const std::vector<int>& genes, const DartsOptions& o, const BuildOptions& bn)
      : genes_(genes), body_(*this, chosen_edges(genes), o, bn) {}
  torch::Tensor forward(const torch::Tensor& x) override {
    aux_ = torch::Tensor();
    return body_.forward(x, genes_, is_training(), &aux_, drop_path_);
  }
  torch::Tensor auxiliary_logits() const override { return aux_; }
  void set_drop_path(double probability) override {
    HWNAS_CHECK_T(ConfigError, probability >= 0 && probability < 1, "drop-path probability must be in [0, 1), got ",
                  probability);
    drop_path_ = probability;
  }

 private:
  std::vector<int> genes_;
  double drop_path_ = 0;
  DartsBody body_;
  torch::Tensor aux_;
};

// Every op on every (node, input) edge. As a mixed supernet its decisions are those edges
// ("normal.n2<-1": node 2, input 1), and an arch keeps, per node, the two inputs whose best
// op other than "none" is strongest (DARTS' rule; strength x edge weight with PC-DARTS'
// edge normalisation), each with that op.
class DartsSupernet : public nn::MixedSupernet {
 public:
  DartsSupernet(const DartsSpace& space, const BuildOptions& bn)
      : space_(space), body_(*this, all_edges(), space.options(), bn) {
    const std::vector<std::string> ops(DartsSpace::kOps.begin(), DartsSpace::kOps.end());
    for (const char* cell : {"normal", "reduce"})
      for (int node = 0; node < DartsSpace::kNodes; ++node)
        for (int input = 0; input < node + 2; ++input)
          decisions_.push_back({std::string(cell) + ".n" + std::to_string(node) + "<-" + std::to_string(input), ops});
  }
  const SearchSpace& space() const override { return space_; }
  std::vector<Choice> decisions() const override { return decisions_; }
  bool supports_partial_channels() const override { return true; }

  std::vector<std::vector<int>> edge_groups() const override {
    std::vector<std::vector<int>> groups;
    for (int cell = 0; cell < 2; ++cell)
      for (int node = 0; node < DartsSpace::kNodes; ++node) {
        auto& g = groups.emplace_back();
        for (int input = 0; input < node + 2; ++input) g.push_back(cell * DartsBody::kEdges + DartsCell::edge_offset(node) + input);
      }
    return groups;
  }

  Arch derive(const std::vector<std::vector<double>>& probs, const std::vector<double>& edge_weights) const override {
    std::vector<int> genes;
    for (int cell = 0; cell < 2; ++cell)
      for (int node = 0; node < DartsSpace::kNodes; ++node) {
        std::vector<std::tuple<double, int, int>> edges;  // (-strength, input, op)
        for (int input = 0; input < node + 2; ++input) {
          const size_t e = static_cast<size_t>(cell * DartsBody::kEdges + DartsCell::edge_offset(node) + input);
          int best = kNone + 1;
          for (int op = kNone + 1; op < static_cast<int>(probs[e].size()); ++op)
            if (probs[e][static_cast<size_t>(op)] > probs[e][static_cast<size_t>(best)]) best = op;
          edges.emplace_back(-probs[e][static_cast<size_t>(best)] * edge_weights[e], input, best);
        }
        std::stable_sort(edges.begin(), edges.end(),
                         [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
        for (int i = 0; i < 2; ++i) {
          genes.push_back(std::get<2>(edges[static_cast<size_t>(i)]));
          genes.push_back(std::get<1>(edges[static_cast<size_t>(i)]));
        }
      }
    return space_.make(genes);
  }

 protected:
  torch::Tensor do_forward(const torch::Tensor& x, const std::vector<int>& genes) override {
    return body_.forward(x, genes, is_training(), nullptr);
  }
  torch::Tensor do_forward_mixed(const torch::Tensor& x, const std::vector<nn::MixedChoice>& path,
                                 int64_t partial) override {
    HWNAS_CHECK_T(ConfigError, space_.options().channels() % (2 * partial) == 0, "partial_channels ", partial,
                  " needs the darts supernet's channels (", space_.options().channels(), ") divisible by ", 2 * partial);
    return body_.forward_mixed(x, path, partial);
  }

 private:
  DartsSpace space_;
  DartsBody body_;
  std::vector<Choice> decisions_;
};

}  // namespace

namespace {
class AuxHead : public nn::Op {
 public:
  AuxHead(int64_t c, int64_t classes, const BuildOptions& bn) {
    seq_ = register_module("seq", tn::Sequential(
        tn::Functional(torch::relu), tn::AvgPool2d(tn::AvgPool2dOptions(5).stride(3).padding(0).count_include_pad(false)),
        tn::Conv2d(tn::Conv2dOptions(c, 128, 1).bias(false)), tn::BatchNorm2d(nn::batch_norm_options(128, bn)),
        tn::Functional(torch::relu), tn::Conv2d(tn::Conv2dOptions(128, 768, 2).bias(false)),
        tn::BatchNorm2d(nn::batch_norm_options(768, bn)), tn::Functional(torch::relu), tn::Flatten(),
        tn::Linear(768, classes)));
  }
  torch::Tensor forward(const torch::Tensor& x) override { return seq_->forward(x); }

 private:
  tn::Sequential seq_{nullptr};
};

std::shared_ptr<nn::Op> make_darts_layer(const LayerSpec& l, const BuildOptions& bn) {
  const int64_t s = l.attr_or("s", 1);
  if (l.kind == "sep_conv") return std::make_shared<SepConv>(l.input.c, l.attr("k"), s, bn);
  if (l.kind == "dil_conv") return std::make_shared<DilConv>(l.input.c, l.output.c, l.attr("k"), s, l.attr("d"), bn);
  if (l.kind == "factorized_reduce") return std::make_shared<FactorizedReduce>(l.input.c, l.output.c, bn);
  return std::make_shared<AuxHead>(l.input.c, l.output.c, bn);  // darts_aux_head
}

// DARTS ops. dil_conv: ReLU, depthwise kxk (dilated), pointwise 1x1, BN; sep_conv: two of
// those without dilation; factorized_reduce: two 1x1 stride-2 convs to half the output
// channels each, BN.
cost::LayerCost dil_conv_cost(const LayerSpec& l) {
  const int64_t ci = l.input.c, co = l.output.c, k = l.attr("k"), hw = l.output.h * l.output.w;
  return {ci * k * k + ci * co + 2 * co, hw * (ci * k * k + ci * co)};
}
cost::LayerCost sep_conv_cost(const LayerSpec& l) {
  const int64_t c = l.input.c, k = l.attr("k"), hw = l.output.h * l.output.w;
  return {2 * (c * k * k + c * c + 2 * c), 2 * hw * (c * k * k + c * c)};
}
cost::LayerCost factorized_reduce_cost(const LayerSpec& l) {
  const int64_t ci = l.input.c, co = l.output.c, hw = l.output.h * l.output.w;
  return {ci * co + 2 * co, hw * ci * co};
}
// The CIFAR auxiliary head on an 8x8 map: ReLU, AvgPool 5/3 (-> 2x2), conv 1x1 to 128,
// BN, ReLU, conv 2x2 to 768, BN, ReLU, linear.
cost::LayerCost aux_head_cost(const LayerSpec& l) {
  const int64_t c = l.input.c, n = l.output.c;
  return {c * 128 + 256 + 128 * 768 * 4 + 1536 + 768 * n + n, 4 * c * 128 + 128 * 768 * 4 + 768 * n};
}
}  // namespace

void register_darts_layer_kinds() {
  auto build = [](const LayerSpec& l) {
    auto op = make_darts_layer(l, BuildOptions());
    op->eval();
    return op;
  };
  auto depthwise_out = [](const LayerSpec& l) { return l.input.c * l.output.h * l.output.w; };
  auto relu_out = [](const LayerSpec& l) { return l.input.numel(); };
  cost::register_layer_kind("sep_conv", "DARTS separable conv (k, s): two ReLU-depthwise-pointwise-BN stacks",
                            {sep_conv_cost, depthwise_out, {}, build});
  cost::register_layer_kind("dil_conv", "DARTS dilated separable conv (k, s, d): ReLU, depthwise, pointwise, BN",
                            {dil_conv_cost, depthwise_out, {}, build});
  cost::register_layer_kind("factorized_reduce", "DARTS stride-2 reduction: ReLU, two 1x1 convs, concat, BN",
                            {factorized_reduce_cost, relu_out, {}, build});
  cost::register_layer_kind("darts_aux_head", "DARTS CIFAR auxiliary classifier head",
                            {aux_head_cost, [](const LayerSpec&) { return int64_t{768}; }, {}, build});
}

std::vector<LayerSpec> DartsSpace::do_layers(const std::vector<int>& genes, const Shape& input) const {
  std::vector<LayerSpec> out;
  int64_t c_aux = 0, c_last = 0;
  auto cells = plan(options_, &c_aux, &c_last);
  Shape stem{3 * options_.channels(), input.h, input.w};
  out.emplace_back("conv_bn", input, stem, Attrs{{"k", 3}, {"s", 1}}, "stem");
  Shape pp = stem, p = stem;
  for (size_t i = 0; i < cells.size(); ++i) {
    const auto& cp = cells[i];
    const std::string where = "cell" + std::to_string(i);
    Shape in{cp.c, p.h, p.w};  // both inputs after preprocessing
    if (cp.reduction_prev)
      out.emplace_back("factorized_reduce", pp, in, Attrs{}, where + ".pre0");
    else
      out.emplace_back("relu_conv_bn", pp, in, Attrs{{"k", 1}, {"s", 1}}, where + ".pre0");
    out.emplace_back("relu_conv_bn", p, in, Attrs{{"k", 1}, {"s", 1}}, where + ".pre1");
    const int c = cp.reduction ? 1 : 0;
    const Shape node_out{cp.c, cp.reduction ? (in.h + 1) / 2 : in.h, cp.reduction ? (in.w + 1) / 2 : in.w};
    for (int k = 0; k < kNodes * 2; ++k) {
      const int op = op_of(genes, c, k), src = input_of(genes, c, k);
      const int64_t s = cp.reduction && src < 2 ? 2 : 1;
      const Shape from = src < 2 ? in : node_out;
      const std::string name = where + ".node" + std::to_string(k / 2) + "." + (k % 2 ? "b" : "a");
      switch (op) {
        case kNone: break;
        case kMaxPool: out.emplace_back("max_pool", from, node_out, Attrs{{"k", 3}, {"s", s}}, name); break;
        case kAvgPool: out.emplace_back("avg_pool", from, node_out, Attrs{{"k", 3}, {"s", s}}, name); break;
        case kSkip:
          if (s == 2) out.emplace_back("factorized_reduce", from, node_out, Attrs{}, name);
          break;
        case kSep3: out.emplace_back("sep_conv", from, node_out, Attrs{{"k", 3}, {"s", s}}, name); break;
        case kSep5: out.emplace_back("sep_conv", from, node_out, Attrs{{"k", 5}, {"s", s}}, name); break;
        case kDil3: out.emplace_back("dil_conv", from, node_out, Attrs{{"k", 3}, {"s", s}, {"d", 2}}, name); break;
        case kDil5: out.emplace_back("dil_conv", from, node_out, Attrs{{"k", 5}, {"s", s}, {"d", 2}}, name); break;
      }
      if (k % 2 == 1) out.emplace_back("add", node_out, node_out, Attrs{{"n", 2}}, where + ".node" + std::to_string(k / 2));
    }
    pp = p;
    p = Shape{4 * cp.c, node_out.h, node_out.w};
    if (options_.auxiliary() && static_cast<int64_t>(i) == 2 * options_.layers() / 3)
      out.emplace_back("darts_aux_head", p, Shape{options_.num_classes(), 1, 1}, Attrs{}, "auxiliary");
  }
  const Shape pooled{p.c, 1, 1};
  out.emplace_back("global_avg_pool", p, pooled, Attrs{}, "global_pooling");
  out.emplace_back("linear", pooled, Shape{options_.num_classes(), 1, 1}, Attrs{{"bias", 1}}, "classifier");
  return out;
}

std::shared_ptr<nn::Network> DartsSpace::do_build(const std::vector<int>& genes, const BuildOptions& options) const {
  return std::make_shared<DartsNetwork>(genes, options_, options);
}

std::shared_ptr<nn::Supernet> DartsSpace::do_supernet(const SupernetOptions& options) const {
  return std::make_shared<DartsSupernet>(*this, options.build());
}

}  // namespace hwnas::spaces
