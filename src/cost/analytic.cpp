#include "hwnas/cost/analytic.h"

#include <functional>
#include <algorithm>
#include <map>

#include "hwnas/core/error.h"

namespace hwnas::cost {
namespace {

// conv (bias-free) + BatchNorm: weights Cout*Cin/g*k*k, BN weight and bias 2*Cout.
LayerCost conv_bn(const LayerSpec& l) {
  const int64_t k = l.attr("k"), g = l.attr_or("g", 1);
  HWNAS_CHECK_T(ConfigError, g > 0 && l.input.c % g == 0,
                "Layer '", l.key(), "': groups must divide the input channels");
  const int64_t per_out = (l.input.c / g) * k * k;
  return {l.output.c * per_out + 2 * l.output.c, l.output.numel() * per_out};
}

// NAS-Bench-201 residual reduction block: ReLUConvBN 3x3 stride s, ReLUConvBN 3x3,
// shortcut AvgPool 2x2 + conv 1x1 (no BN).
LayerCost resblock(const LayerSpec& l) {
  const int64_t ci = l.input.c, co = l.output.c, hw = l.output.h * l.output.w;
  const int64_t params = (9 * ci * co + 2 * co) + (9 * co * co + 2 * co) + ci * co;
  const int64_t macs = hw * (9 * ci * co + 9 * co * co + ci * co);
  return {params, macs};
}

// conv (bias-free, no BN) + activation, e.g. OFA's feature-mix layer.
LayerCost conv_act(const LayerSpec& l) {
  const int64_t k = l.attr("k"), g = l.attr_or("g", 1);
  const int64_t per_out = (l.input.c / g) * k * k;
  return {l.output.c * per_out, l.output.numel() * per_out};
}

// Inverted residual: [1x1 expand conv + BN] (pw=1), depthwise kxk + BN, [squeeze-excite
// with `se` hidden channels, convs with bias], 1x1 projection + BN. Pointwise convs in g groups.
LayerCost mbconv(const LayerSpec& l) {
  const int64_t in = l.input.c, out = l.output.c, mid = l.attr("mid"), k = l.attr("k"), g = l.attr_or("g", 1),
                se = l.attr_or("se", 0);
  const int64_t hw_in = l.input.h * l.input.w, hw_out = l.output.h * l.output.w;
  LayerCost c;
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

// DARTS ops. dil_conv: ReLU, depthwise kxk (dilated), pointwise 1x1, BN; sep_conv: two of
// those without dilation; factorized_reduce: two 1x1 stride-2 convs to half the output
// channels each, BN.
LayerCost dil_conv(const LayerSpec& l) {
  const int64_t ci = l.input.c, co = l.output.c, k = l.attr("k"), hw = l.output.h * l.output.w;
  return {ci * k * k + ci * co + 2 * co, hw * (ci * k * k + ci * co)};
}
LayerCost sep_conv(const LayerSpec& l) {
  const int64_t c = l.input.c, k = l.attr("k"), hw = l.output.h * l.output.w;
  return {2 * (c * k * k + c * c + 2 * c), 2 * hw * (c * k * k + c * c)};
}
LayerCost factorized_reduce(const LayerSpec& l) {
  const int64_t ci = l.input.c, co = l.output.c, hw = l.output.h * l.output.w;
  return {ci * co + 2 * co, hw * ci * co};
}
// DARTS CIFAR auxiliary head on an 8x8 map: ReLU, AvgPool 5/3 (-> 2x2), conv 1x1 to 128,
// BN, ReLU, conv 2x2 to 768, BN, ReLU, linear.
LayerCost darts_aux_head(const LayerSpec& l) {
  const int64_t c = l.input.c, n = l.output.c;
  return {c * 128 + 256 + 128 * 768 * 4 + 1536 + 768 * n + n, 4 * c * 128 + 128 * 768 * 4 + 768 * n};
}

LayerCost free_layer(const LayerSpec&) { return {0, 0}; }

LayerCost batch_norm(const LayerSpec& l) { return {2 * l.input.c, 0}; }

LayerCost linear(const LayerSpec& l) {
  const int64_t in = l.input.numel(), out = l.output.numel();
  return {in * out + (l.attr_or("bias", 1) ? out : 0), in * out};
}

const std::map<std::string, std::function<LayerCost(const LayerSpec&)>>& kinds() {
  static const std::map<std::string, std::function<LayerCost(const LayerSpec&)>> table = {
      {"conv_bn", conv_bn},           {"relu_conv_bn", conv_bn},
      {"conv_bn_act", conv_bn},       {"conv_act", conv_act},
      {"mbconv", mbconv},             {"sep_conv", sep_conv},
      {"dil_conv", dil_conv},         {"factorized_reduce", factorized_reduce},
      {"darts_aux_head", darts_aux_head},
      {"nb201_resblock", resblock},   {"avg_pool", free_layer},
      {"max_pool", free_layer},       {"identity", free_layer},
      {"zero", free_layer},           {"add", free_layer},
      {"bn_relu", batch_norm},        {"global_avg_pool", free_layer},
      {"linear", linear},
  };
  return table;
}

// The largest intermediate a layer holds besides its input and output, per sample.
int64_t intermediate(const LayerSpec& l) {
  const int64_t hw_in = l.input.h * l.input.w, hw_out = l.output.h * l.output.w;
  if (l.kind == "mbconv") {
    const int64_t mid = l.attr("mid");
    return std::max(l.attr("pw") ? mid * hw_in : 0, mid * hw_out);
  }
  if (l.kind == "sep_conv" || l.kind == "dil_conv") return l.input.c * hw_out;
  if (l.kind == "nb201_resblock") return l.output.numel();
  if (l.kind == "relu_conv_bn" || l.kind == "factorized_reduce") return l.input.numel();  // the ReLU's output
  if (l.kind == "darts_aux_head") return 768;
  return 0;
}

}  // namespace

LayerCost layer_cost(const LayerSpec& layer) {
  const auto& table = kinds();
  auto it = table.find(layer.kind);
  if (it == table.end()) {
    std::string known;
    for (const auto& kv : table) known += (known.empty() ? "" : ", ") + kv.first;
    throw NotFoundError(detail::concat("The analytic cost model does not know layer kind '",
                                       layer.kind, "' (layer ", layer.key(), "); known kinds: ",
                                       known));
  }
  // Shapes from a space configured far beyond any real network (4096 channels at 4096x4096)
  // could overflow 64-bit counts: refused rather than reported wrapped.
  const long double in = static_cast<long double>(layer.input.c) * layer.input.h * layer.input.w,
                    out = static_cast<long double>(layer.output.c) * layer.output.h * layer.output.w;
  HWNAS_CHECK_T(ConfigError, in < 0x1p50L && out < 0x1p50L, "Layer '", layer.name, "' has ", in > out ? in : out,
                " activations, more than hwnas counts (2^50); configure the space smaller");
  LayerCost c = it->second(layer);
  c.activations = layer.input.numel() + layer.output.numel() + intermediate(layer);
  return c;
}

NetworkCost network_cost(const std::vector<LayerSpec>& layers) {
  NetworkCost total;
  total.layers.reserve(layers.size());
  for (const auto& l : layers) {
    auto c = layer_cost(l);
    HWNAS_CHECK_T(ConfigError, c.params >= 0 && c.macs >= 0 && !__builtin_add_overflow(total.params, c.params, &total.params) &&
                                   !__builtin_add_overflow(total.macs, c.macs, &total.macs),
                  "The network's parameter or MAC count overflows 64 bits at layer '", l.name,
                  "'; configure the space smaller");
    total.peak_activations = std::max(total.peak_activations, c.activations);
    total.layers.push_back(c);
  }
  return total;
}

std::vector<std::string> known_layer_kinds() {
  std::vector<std::string> out;
  for (const auto& kv : kinds()) out.push_back(kv.first);
  return out;
}

}  // namespace hwnas::cost
