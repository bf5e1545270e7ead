// The layer-kind and key-format registries, and hwnas's generic layer kinds: their analytic
// costs and how the profiler runs them. Kinds that belong to one space (mbconv, the NB201
// residual block, DARTS's ops) are registered by that space (search_spaces/).
#include "hwnas/cost/layer_kind.h"

#include <unordered_map>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "hwnas/core/error.h"
#include "hwnas/nn/ops.h"

namespace hwnas::cost {
namespace {

namespace tn = torch::nn;

torch::Tensor activate(const torch::Tensor& x, int64_t act) {
  switch (act) {
    case 1: return torch::relu(x);
    case 2: return torch::hardtanh(x, 0.0, 6.0);
    case 3: return torch::hardswish(x);
    default: return x;
  }
}

// A layer made of registered submodules and buffers and a forward over them (a traced
// forward records the ATen ops it runs, so a lambda serves as well as a method).
class KindOp : public nn::Op {
 public:
  template <typename M>
  M add(const std::string& name, M module) {
    return register_module(name, module);
  }
  torch::Tensor buffer(const std::string& name, torch::Tensor t) { return register_buffer(name, std::move(t)); }
  void set_forward(std::function<torch::Tensor(const torch::Tensor&)> f) { forward_ = std::move(f); }
  torch::Tensor forward(const torch::Tensor& x) override { return forward_(x); }

 private:
  std::function<torch::Tensor(const torch::Tensor&)> forward_;
};

std::shared_ptr<nn::Op> in_eval(std::shared_ptr<nn::Op> op) {
  op->eval();
  return op;
}

// conv (bias-free) + BatchNorm: weights Cout*Cin/g*k*k, BN weight and bias 2*Cout.
LayerCost conv_bn(const LayerSpec& l) {
  const int64_t k = l.attr("k"), g = l.attr_or("g", 1);
  HWNAS_CHECK_T(ConfigError, g > 0 && l.input.c % g == 0,
                "Layer '", l.key(), "': groups must divide the input channels");
  const int64_t per_out = (l.input.c / g) * k * k;
  return {l.output.c * per_out + 2 * l.output.c, l.output.numel() * per_out};
}

std::shared_ptr<nn::Op> conv_bn_layer(const LayerSpec& l) {
  auto op = std::make_shared<KindOp>();
  auto conv = op->add("op", std::make_shared<nn::ConvBn>(nn::ConvBnOptions(l.input.c, l.output.c, l.attr("k"))
                                                             .stride(l.attr_or("s", 1))
                                                             .groups(l.attr_or("g", 1))
                                                             .relu_first(l.kind == "relu_conv_bn")));
  const int64_t act = l.attr_or("act", 0);
  op->set_forward([conv, act](const torch::Tensor& x) { return activate(conv->forward(x), act); });
  return in_eval(op);
}

// conv (bias-free, no BN) + activation, e.g. OFA's feature-mix layer.
LayerCost conv_act(const LayerSpec& l) {
  const int64_t k = l.attr("k"), g = l.attr_or("g", 1);
  const int64_t per_out = (l.input.c / g) * k * k;
  return {l.output.c * per_out, l.output.numel() * per_out};
}

std::shared_ptr<nn::Op> conv_act_layer(const LayerSpec& l) {
  auto op = std::make_shared<KindOp>();
  auto conv = op->add("conv", tn::Conv2d(tn::Conv2dOptions(l.input.c, l.output.c, l.attr("k"))
                                             .padding(l.attr("k") / 2)
                                             .groups(l.attr_or("g", 1))
                                             .bias(false)));
  const int64_t act = l.attr_or("act", 0);
  op->set_forward([conv, act](const torch::Tensor& x) mutable { return activate(conv->forward(x), act); });
  return in_eval(op);
}

std::shared_ptr<nn::Op> pool_layer(const LayerSpec& l) {
  return in_eval(std::make_shared<nn::Pool>(l.kind == "avg_pool" ? nn::Pool::Kind::kAvg : nn::Pool::Kind::kMax,
                                            l.attr("k"), l.attr_or("s", 1)));
}

// The input plus n - 1 others: fixed random tensors of one sample's shape, broadcast over
// the batch (one module input, as every layer of a kit has).
std::shared_ptr<nn::Op> add_layer(const LayerSpec& l) {
  auto op = std::make_shared<KindOp>();
  std::vector<torch::Tensor> others;
  for (int64_t i = 1; i < l.attr("n"); ++i)
    others.push_back(op->buffer("addend" + std::to_string(i), torch::randn({1, l.input.c, l.input.h, l.input.w})));
  op->set_forward([others](const torch::Tensor& x) {
    auto s = x;
    for (const auto& o : others) s = s + o;
    return s;
  });
  return in_eval(op);
}

std::shared_ptr<nn::Op> bn_relu_layer(const LayerSpec& l) {
  auto op = std::make_shared<KindOp>();
  auto norm = op->add("bn", tn::BatchNorm2d(l.input.c));
  op->set_forward([norm](const torch::Tensor& x) mutable { return torch::relu(norm->forward(x)); });
  return in_eval(op);
}

std::shared_ptr<nn::Op> global_avg_pool_layer(const LayerSpec&) {
  auto op = std::make_shared<KindOp>();
  op->set_forward([](const torch::Tensor& x) { return x.mean({2, 3}, true); });
  return in_eval(op);
}

LayerCost linear(const LayerSpec& l) {
  const int64_t in = l.input.numel(), out = l.output.numel();
  return {in * out + (l.attr_or("bias", 1) ? out : 0), in * out};
}

std::shared_ptr<nn::Op> linear_layer(const LayerSpec& l) {
  auto op = std::make_shared<KindOp>();
  auto fc = op->add("fc", tn::Linear(tn::LinearOptions(l.input.numel(), l.output.numel()).bias(l.attr_or("bias", 1) != 0)));
  op->set_forward([fc](const torch::Tensor& x) mutable { return fc->forward(x.flatten(1)); });
  return in_eval(op);
}

LayerCost free_layer(const LayerSpec&) { return {0, 0}; }

int64_t relu_output(const LayerSpec& l) { return l.kind == "relu_conv_bn" ? l.input.numel() : 0; }

void add_kind(LayerKindRegistry& r, const std::string& name, const std::string& description, LayerKind kind) {
  HWNAS_CHECK_T(ConfigError, static_cast<bool>(kind.cost), "Layer kind '", name,
                "' has no cost function: set LayerKind::cost");
  r.add_value(name, description, std::move(kind));
}

void register_generic(LayerKindRegistry& r) {
  auto add = [&r](const std::string& name, const std::string& description, LayerKind kind) {
    add_kind(r, name, description, std::move(kind));
  };
  add("conv_bn", "Convolution (k, s, g) without bias, then BatchNorm; optional activation act",
      {conv_bn, {}, {}, conv_bn_layer});
  add("relu_conv_bn", "ReLU, convolution (k, s, g) without bias, BatchNorm", {conv_bn, relu_output, {}, conv_bn_layer});
  add("conv_bn_act", "Convolution (k, s, g), BatchNorm, activation act (1 relu, 2 relu6, 3 hswish)",
      {conv_bn, {}, {}, conv_bn_layer});
  add("conv_act", "Convolution (k, g) without bias or BatchNorm, then activation act", {conv_act, {}, {}, conv_act_layer});
  add("linear", "Fully connected layer on the flattened input (bias 0/1)", {linear, {}, {}, linear_layer});
  add("avg_pool", "Average pooling (k, s)", {free_layer, {}, {}, pool_layer});
  add("max_pool", "Max pooling (k, s)", {free_layer, {}, {}, pool_layer});
  add("global_avg_pool", "Mean over height and width", {free_layer, {}, {}, global_avg_pool_layer});
  add("bn_relu", "BatchNorm then ReLU", {[](const LayerSpec& l) { return LayerCost{2 * l.input.c, 0}; }, {}, {}, bn_relu_layer});
  add("add", "Sum of n inputs of the same shape", {free_layer, {}, {}, add_layer});
  add("identity", "Passes its input on (costs nothing, not profiled)", {free_layer, {}, {}});
  add("zero", "Outputs zeros (costs nothing, not profiled)", {free_layer, {}, {}});
}

}  // namespace

std::shared_ptr<nn::Op> build_layer(const LayerSpec& layer) {
  const LayerKind& kind = layer_kind(layer);
  HWNAS_CHECK_T(NotFoundError, static_cast<bool>(kind.build), "Layer kind '", layer.kind,
                "' has no module to build (it registers no LayerKind::build; layer ", layer.key(), ")");
  return kind.build(layer);
}

LayerKindRegistry& layer_kind_registry() {
  static LayerKindRegistry* registry = [] {
    auto* r = new LayerKindRegistry("layer kind");
    register_generic(*r);
    return r;
  }();
  return *registry;
}

void register_layer_kind(const std::string& name, const std::string& description, LayerKind kind) {
  add_kind(layer_kind_registry(), name, description, std::move(kind));
}

const LayerKind& layer_kind(const LayerSpec& layer) {
  // Looked up for every layer of every arch costed: each thread keeps the kinds it has
  // resolved (the registry keeps every instance for the life of the process).
  thread_local std::unordered_map<std::string, const LayerKind*> resolved;
  if (auto it = resolved.find(layer.kind); it != resolved.end()) return *it->second;
  auto& r = layer_kind_registry();
  if (!r.contains(layer.kind)) {
    std::string known;
    for (const auto& n : r.names()) known += (known.empty() ? "" : ", ") + n;
    throw NotFoundError(detail::concat("Unknown layer kind '", layer.kind, "' (layer ", layer.key(), "); known kinds: ",
                                       known, ". A space with its own kinds registers them in layer_kind_registry()"));
  }
  const LayerKind* kind = r.shared(layer.kind).get();
  resolved.emplace(layer.kind, kind);
  return *kind;
}

KeyFormatRegistry& key_format_registry() {
  static KeyFormatRegistry* registry = [] {
    auto* r = new KeyFormatRegistry("latency-table key format");
    r->add("hwnas", "hwnas layer keys (LayerSpec::key): kind, shapes and attributes", [](const nlohmann::json&) {
      return std::make_unique<KeyFormat>(KeyFormat{[](const LayerSpec& l) { return l.key(); }, true});
    });
    return r;
  }();
  return *registry;
}

}  // namespace hwnas::cost
