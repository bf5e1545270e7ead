#include "hwnas/search_spaces/mobilenet/chain.h"

#include <algorithm>
#include <map>

#include <torch/torch.h>

#include "hwnas/core/error.h"
#include "hwnas/cost/layer_kind.h"
#include "hwnas/nn/mixed.h"
#include "hwnas/nn/network.h"
#include "hwnas/nn/ops.h"
#include "hwnas/nn/supernet.h"

namespace hwnas::spaces {

Act parse_act(const std::string& name) {
  if (name == "none") return Act::kNone;
  if (name == "relu") return Act::kRelu;
  if (name == "relu6") return Act::kRelu6;
  if (name == "hswish") return Act::kHswish;
  throw ConfigError("Unknown activation '" + name + "'; allowed: none, relu, relu6, hswish");
}

std::string act_name(Act act) {
  switch (act) {
    case Act::kNone: return "none";
    case Act::kRelu: return "relu";
    case Act::kRelu6: return "relu6";
    case Act::kHswish: return "hswish";
  }
  return "?";
}

int64_t make_divisible(double v, int64_t divisor) {
  int64_t n = std::max<int64_t>(divisor, static_cast<int64_t>(v + static_cast<double>(divisor) / 2) / divisor * divisor);
  if (static_cast<double>(n) < 0.9 * v) n += divisor;
  return n;
}

namespace {

using Attrs = std::vector<std::pair<std::string, int64_t>>;

int64_t conv_out(int64_t size, int64_t stride) { return (size - 1) / stride + 1; }  // padding k/2
const int64_t kNoPadding = 0;  // (a literal 0 would also match conv2d's string-padding overload)

torch::Tensor activate(const torch::Tensor& x, Act act) {
  switch (act) {
    case Act::kNone: return x;
    case Act::kRelu: return torch::relu(x);
    case Act::kRelu6: return torch::hardtanh(x, 0.0, 6.0);
    case Act::kHswish: return torch::hardswish(x);
  }
  return x;
}

// An MBConv block holding weights for kernel <= max kernel and mid <= max mid; a standalone
// model's block is one at exactly its size, a supernet's is one at the largest size run on
// slices. One class for both keeps their computations identical.
class MBConv : public torch::nn::Module {
 public:
  MBConv(const BlockSpec& b, const BuildOptions& bn) : spec_(b) {
    namespace tn = torch::nn;
    if (b.expand_conv) {
      expand_ = register_module("expand", tn::Conv2d(tn::Conv2dOptions(b.in, b.mid, 1).groups(b.groups).bias(false)));
      expand_bn_ = register_module("expand_bn", tn::BatchNorm2d(nn::batch_norm_options(b.mid, bn)));
    }
    dw_ = register_module("dw", tn::Conv2d(tn::Conv2dOptions(b.mid, b.mid, b.kernel).groups(b.mid).bias(false)));
    dw_bn_ = register_module("dw_bn", tn::BatchNorm2d(nn::batch_norm_options(b.mid, bn)));
    if (b.se_mid > 0) {
      se_reduce_ = register_module("se_reduce", tn::Conv2d(tn::Conv2dOptions(b.mid, b.se_mid, 1)));
      se_expand_ = register_module("se_expand", tn::Conv2d(tn::Conv2dOptions(b.se_mid, b.mid, 1)));
    }
    project_ = register_module("project", tn::Conv2d(tn::Conv2dOptions(b.mid, b.out, 1).groups(b.groups).bias(false)));
    project_bn_ = register_module("project_bn", tn::BatchNorm2d(nn::batch_norm_options(b.out, bn)));
  }

  // Runs the block as `b` (same in/out/stride/groups/act/se as this module; kernel and mid
  // may be smaller).
  torch::Tensor forward(const torch::Tensor& x, const BlockSpec& b) {
    HWNAS_INTERNAL_ASSERT(b.kernel <= spec_.kernel && b.mid <= spec_.mid && b.in == spec_.in &&
                              b.out == spec_.out && b.groups == spec_.groups,
                          "block ", b.slot, " does not fit its shared weights");
    const bool training = is_training();
    torch::Tensor h = x;
    if (b.expand_conv) {
      h = torch::conv2d(h, expand_->weight.narrow(0, 0, b.mid), torch::Tensor(), 1, kNoPadding, 1, b.groups);
      h = activate(nn::sliced_batch_norm(*expand_bn_, h, b.mid, training), b.act);
    }
    const int64_t pad = b.kernel / 2;
    auto w = nn::shared_slice(dw_->weight, {b.mid, 1, b.kernel, b.kernel});
    h = torch::conv2d(h, w, torch::Tensor(), b.stride, pad, 1, b.mid);
    h = activate(nn::sliced_batch_norm(*dw_bn_, h, b.mid, training), b.act);
    if (b.se_mid > 0) {
      auto y = h.mean({2, 3}, /*keepdim=*/true);
      y = torch::conv2d(y, nn::shared_slice(se_reduce_->weight, {b.se_mid, b.mid, 1, 1}),
                        se_reduce_->bias.narrow(0, 0, b.se_mid));
      y = torch::relu(y);
      y = torch::conv2d(y, nn::shared_slice(se_expand_->weight, {b.mid, b.se_mid, 1, 1}),
                        se_expand_->bias.narrow(0, 0, b.mid));
      h = h * torch::hardsigmoid(y);
    }
    h = torch::conv2d(h, nn::shared_slice(project_->weight, {b.out, b.mid / b.groups, 1, 1}), torch::Tensor(), 1, kNoPadding, 1, b.groups);
    h = nn::sliced_batch_norm(*project_bn_, h, b.out, training);
    return b.residual ? h + x : h;
  }

 private:
  BlockSpec spec_;
  torch::nn::Conv2d expand_{nullptr}, dw_{nullptr}, se_reduce_{nullptr}, se_expand_{nullptr}, project_{nullptr};
  torch::nn::BatchNorm2d expand_bn_{nullptr}, dw_bn_{nullptr}, project_bn_{nullptr};
};

// The block modules of a chain, one holder per slot with one MBConv per group count
// ("g1", "g2"), and the fixed stem and head, registered into `owner`.
class ChainBody {
 public:
  ChainBody(torch::nn::Module& owner, const ChainNet& net, const BuildOptions& bn) : net_(net) {
    namespace tn = torch::nn;
    stem_ = owner.register_module(
        "stem", std::make_shared<nn::ConvBn>(nn::ConvBnOptions(net.input_channels, net.stem_channels, net.stem_kernel)
                                                 .stride(net.stem_stride)
                                                 .bn(bn)));
    auto blocks = owner.register_module("blocks", std::make_shared<tn::Module>());
    std::map<std::string, std::shared_ptr<tn::Module>> holders;
    for (const auto& b : net.blocks) {
      auto& holder = holders[b.slot];
      if (!holder) {
        holder = std::make_shared<tn::Module>();
        blocks->register_module(b.slot, holder);
      }
      auto block = holder->register_module("g" + std::to_string(b.groups), std::make_shared<MBConv>(b, bn));
      modules_[b.slot + "/" + std::to_string(b.groups)] = block;
    }
    int64_t c = net.blocks.empty() ? net.stem_channels : net.blocks.back().out;
    if (net.final_channels > 0) {
      final_ = owner.register_module(
          "final_expand", std::make_shared<nn::ConvBn>(nn::ConvBnOptions(c, net.final_channels, 1).bn(bn)));
      c = net.final_channels;
    }
    if (net.mix_channels > 0) {
      mix_ = owner.register_module("feature_mix", tn::Conv2d(tn::Conv2dOptions(c, net.mix_channels, 1).bias(false)));
      c = net.mix_channels;
    }
    classifier_ = owner.register_module("classifier", tn::Linear(c, net.num_classes));
  }

  torch::Tensor forward(const torch::Tensor& x, const ChainNet& active, bool training) {
    auto h = stem(x);
    for (const auto& b : active.blocks) h = block(h, b);
    return head(h, training);
  }

  torch::Tensor stem(const torch::Tensor& x) { return activate(stem_->forward(x), net_.stem_act); }

  torch::Tensor block(const torch::Tensor& h, const BlockSpec& b) {
    auto it = modules_.find(b.slot + "/" + std::to_string(b.groups));
    HWNAS_INTERNAL_ASSERT(it != modules_.end(), "no weights for block ", b.slot);
    return it->second->forward(h, b);
  }

  torch::Tensor head(torch::Tensor h, bool training) {
    if (final_) h = activate(final_->forward(h), net_.final_act);
    h = h.mean({2, 3}, /*keepdim=*/true);
    if (mix_) h = activate(mix_->forward(h), net_.mix_act);
    h = h.flatten(1);
    if (net_.dropout > 0) h = torch::dropout(h, net_.dropout, training);
    return classifier_->forward(h);
  }

 private:
  ChainNet net_;
  std::shared_ptr<nn::ConvBn> stem_, final_;
  std::map<std::string, std::shared_ptr<MBConv>> modules_;
  torch::nn::Conv2d mix_{nullptr};
  torch::nn::Linear classifier_{nullptr};
};

class ChainNetwork : public nn::Network {
 public:
  ChainNetwork(const ChainNet& net, const BuildOptions& bn) : net_(net), body_(*this, net, bn) {}
  torch::Tensor forward(const torch::Tensor& x) override { return body_.forward(x, net_, is_training()); }

 private:
  ChainNet net_;
  ChainBody body_;
};

class ChainSupernet : public nn::Supernet {
 public:
  ChainSupernet(std::shared_ptr<const SearchSpace> space, const ChainNet& largest,
                std::function<ChainNet(const std::vector<int>&)> active, const BuildOptions& bn)
      : space_(std::move(space)), active_(std::move(active)), body_(*this, largest, bn) {}
  const SearchSpace& space() const override { return *space_; }

 protected:
  torch::Tensor do_forward(const torch::Tensor& x, const std::vector<int>& genes) override {
    return body_.forward(x, active_(genes), is_training());
  }

 private:
  std::shared_ptr<const SearchSpace> space_;
  std::function<ChainNet(const std::vector<int>&)> active_;
  ChainBody body_;
};

class MixedChainSupernet : public nn::MixedSupernet {
 public:
  MixedChainSupernet(std::shared_ptr<const SearchSpace> space, const ChainNet& largest,
                     std::function<ChainNet(const std::vector<int>&)> active, MixedChain mixed,
                     const BuildOptions& bn)
      : space_(std::move(space)), active_(std::move(active)), mixed_(std::move(mixed)), body_(*this, largest, bn) {
    HWNAS_INTERNAL_ASSERT(mixed_.options.size() == space_->choices().size() &&
                              mixed_.allowed.size() == mixed_.options.size(),
                          "a mixed chain needs one slot per choice");
  }
  const SearchSpace& space() const override { return *space_; }
  std::vector<std::vector<bool>> allowed() const override { return mixed_.allowed; }

 protected:
  torch::Tensor do_forward(const torch::Tensor& x, const std::vector<int>& genes) override {
    return body_.forward(x, active_(genes), is_training());
  }

  torch::Tensor do_forward_mixed(const torch::Tensor& x, const std::vector<nn::MixedChoice>& path,
                                 int64_t /*partial*/) override {
    auto h = body_.stem(x);
    for (const auto& b : mixed_.fixed) h = body_.block(h, b);
    for (size_t i = 0; i < path.size(); ++i) {
      const auto& options = mixed_.options[i];
      h = nn::mix(path[i], [&](int k) { return options[static_cast<size_t>(k)] ? body_.block(h, *options[static_cast<size_t>(k)]) : h; });
    }
    return body_.head(h, is_training());
  }

 private:
  std::shared_ptr<const SearchSpace> space_;
  std::function<ChainNet(const std::vector<int>&)> active_;
  MixedChain mixed_;
  ChainBody body_;
};

}  // namespace

namespace {
class MBConvLayer : public nn::Op {
 public:
  MBConvLayer(const BlockSpec& b, const BuildOptions& bn) : spec_(b) { block_ = register_module("block", std::make_shared<MBConv>(b, bn)); }
  torch::Tensor forward(const torch::Tensor& x) override { return block_->forward(x, spec_); }

 private:
  BlockSpec spec_;
  std::shared_ptr<MBConv> block_;
};

std::shared_ptr<nn::Op> make_mbconv_layer(const LayerSpec& l, const BuildOptions& options) {
  BlockSpec b;
  b.slot = l.name;
  b.in = l.input.c;
  b.out = l.output.c;
  b.kernel = l.attr("k");
  b.stride = l.attr("s");
  b.mid = l.attr("mid");
  b.groups = l.attr_or("g", 1);
  b.se_mid = l.attr_or("se", 0);
  b.act = static_cast<Act>(l.attr("act"));
  b.expand_conv = l.attr("pw") != 0;
  b.residual = l.attr_or("res", 0) != 0;
  return std::make_shared<MBConvLayer>(b, options);
}

// Inverted residual: [1x1 expand conv + BN] (pw=1), depthwise kxk + BN, [squeeze-excite
// with `se` hidden channels, convs with bias], 1x1 projection + BN. Pointwise convs in g groups.
cost::LayerCost mbconv_cost(const LayerSpec& l) {
  const int64_t in = l.input.c, out = l.output.c, mid = l.attr("mid"), k = l.attr("k"), g = l.attr_or("g", 1),
                se = l.attr_or("se", 0);
  const int64_t hw_in = l.input.h * l.input.w, hw_out = l.output.h * l.output.w;
  cost::LayerCost c;
  if (l.attr("pw")) {
    c.params += in * mid / g + 2 * mid;
    c.macs += hw_in * in * mid / g;
  }
  c.params += mid * k * k + 2 * mid;
  c.macs += hw_out * mid * k * k;
  if (se > 0) {
    c.params += mid * se + se + se * mid + mid;
    c.macs += 2 * mid * se;
  }
  c.params += mid * out / g + 2 * out;
  c.macs += hw_out * mid * out / g;
  return c;
}

// The expanded tensor, before and after the depthwise conv.
int64_t mbconv_intermediate(const LayerSpec& l) {
  const int64_t mid = l.attr("mid");
  return std::max(l.attr("pw") ? mid * l.input.h * l.input.w : 0, mid * l.output.h * l.output.w);
}
}  // namespace

void register_mbconv_layer_kind() {
  cost::register_layer_kind(
      "mbconv", "Inverted residual (mid, k, s, g, se, act, pw, res) of the MobileNet and OFA spaces",
      {mbconv_cost, mbconv_intermediate, {}, [](const LayerSpec& l) {
         std::shared_ptr<nn::Op> op = make_mbconv_layer(l, BuildOptions());
         op->eval();
         return op;
       }});
}

std::vector<LayerSpec> chain_layers(const ChainNet& net, const Shape& input) {
  std::vector<LayerSpec> out;
  Shape cur{net.stem_channels, conv_out(input.h, net.stem_stride), conv_out(input.w, net.stem_stride)};
  out.emplace_back("conv_bn_act", input, cur,
                   Attrs{{"k", net.stem_kernel}, {"s", net.stem_stride}, {"act", static_cast<int64_t>(net.stem_act)}},
                   "stem");
  for (const auto& b : net.blocks) {
    HWNAS_INTERNAL_ASSERT(b.in == cur.c, "block ", b.slot, " expects ", b.in, " channels, gets ", cur.c);
    Shape next{b.out, conv_out(cur.h, b.stride), conv_out(cur.w, b.stride)};
    out.emplace_back("mbconv", cur, next,
                     Attrs{{"k", b.kernel}, {"s", b.stride}, {"mid", b.mid}, {"g", b.groups}, {"se", b.se_mid},
                           {"act", static_cast<int64_t>(b.act)}, {"pw", b.expand_conv ? 1 : 0},
                           {"res", b.residual ? 1 : 0}},
                     b.slot);
    cur = next;
  }
  if (net.final_channels > 0) {
    Shape next{net.final_channels, cur.h, cur.w};
    out.emplace_back("conv_bn_act", cur, next, Attrs{{"k", 1}, {"s", 1}, {"act", static_cast<int64_t>(net.final_act)}},
                     "final_expand");
    cur = next;
  }
  Shape pooled{cur.c, 1, 1};
  out.emplace_back("global_avg_pool", cur, pooled, Attrs{}, "global_pooling");
  cur = pooled;
  if (net.mix_channels > 0) {
    Shape next{net.mix_channels, 1, 1};
    out.emplace_back("conv_act", cur, next, Attrs{{"k", 1}, {"act", static_cast<int64_t>(net.mix_act)}}, "feature_mix");
    cur = next;
  }
  out.emplace_back("linear", cur, Shape{net.num_classes, 1, 1}, Attrs{{"bias", 1}}, "classifier");
  return out;
}

std::shared_ptr<nn::Network> build_chain(const ChainNet& net, const BuildOptions& options) {
  return std::make_shared<ChainNetwork>(net, options);
}

std::shared_ptr<nn::Supernet> build_mixed_chain_supernet(std::shared_ptr<const SearchSpace> space,
                                                         const ChainNet& largest,
                                                         std::function<ChainNet(const std::vector<int>&)> active,
                                                         MixedChain mixed, const BuildOptions& options) {
  return std::make_shared<MixedChainSupernet>(std::move(space), largest, std::move(active), std::move(mixed),
                                              options);
}

std::shared_ptr<nn::Supernet> build_chain_supernet(std::shared_ptr<const SearchSpace> space,
                                                   const ChainNet& largest,
                                                   std::function<ChainNet(const std::vector<int>&)> active,
                                                   const BuildOptions& options) {
  return std::make_shared<ChainSupernet>(std::move(space), largest, std::move(active), options);
}

}  // namespace hwnas::spaces
