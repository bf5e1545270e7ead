#include "hwnas/cost/analytic.h"

#include <algorithm>

#include "hwnas/core/error.h"

namespace hwnas::cost {

LayerCost layer_cost(const LayerSpec& layer) {
  const LayerKind& kind = layer_kind(layer);
  // Shapes from a space configured far beyond any real network (4096 channels at 4096x4096)
  // could overflow 64-bit counts: refused rather than reported wrapped.
  const long double in = static_cast<long double>(layer.input.c) * layer.input.h * layer.input.w,
                    out = static_cast<long double>(layer.output.c) * layer.output.h * layer.output.w;
  HWNAS_CHECK_T(ConfigError, in < 0x1p50L && out < 0x1p50L, "Layer '", layer.name, "' has ", in > out ? in : out,
                " activations, more than hwnas counts (2^50); configure the space smaller");
  LayerCost c = kind.cost(layer);
  c.activations = layer.input.numel() + layer.output.numel() + (kind.intermediate ? kind.intermediate(layer) : 0);
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

}  // namespace hwnas::cost
